"""Run every benchmark module bench/bench_*.py, write bench/results/latest.json, print a table.

    .venv/bin/python bench/run.py [-k SUBSTRING] [--output PATH]

A benchmark module exposes ``run()``, returning result dicts {name, value, unit, target, pass}
(optionally "note"). ``target`` is an upper bound in ``unit``; ``pass`` is None for
informational entries (baselines, ratios). Each benchmark measures its own baseline in the same
run, because this is a shared, noisy machine: compare a regression against it.

Exits 1 when an entry failed (``pass`` is False) or a module raised, else 0.
"""

import argparse
import importlib.util
import json
import sys
import time
import traceback
import unicodedata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "latest.json"
REQUIRED_KEYS = ("name", "value", "unit", "target", "pass")


def discover(directory=BENCH_DIR, keyword=None):
    modules = sorted(Path(directory).glob("bench_*.py"))
    return [path for path in modules if not keyword or keyword in path.stem]


def load(path):
    directory = str(Path(path).parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # benchmark modules import their siblings (benchkit, estates_workbook)
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failure(name, message):
    return {"name": name, "value": None, "unit": "", "target": None, "pass": False,
            "note": message}


def run_module(path):
    """The module's results, or one failing entry saying why there are none."""
    name = Path(path).stem
    try:
        module = load(path)
        if not callable(getattr(module, "run", None)):
            return [failure(name, f"{Path(path).name} 没有 run() 函数")]
        entries = list(module.run() or [])
    except Exception as error:
        traceback.print_exc()
        return [failure(name, f"出错：{type(error).__name__}: {error}")]
    checked = []
    for entry in entries:
        missing = [key for key in REQUIRED_KEYS if not isinstance(entry, dict) or key not in entry]
        if missing:
            checked.append(failure(name, f"结果缺少字段 {missing}：{entry!r}"))
        else:
            checked.append(entry)
    return checked or [failure(name, "没有返回任何结果")]


def run_all(paths, output=RESULTS, stream=sys.stdout):
    results = []
    for path in paths:
        print(f"运行 {Path(path).name} …", file=stream, flush=True)
        started = time.perf_counter()
        module_results = run_module(path)
        results.extend(module_results)
        print(f"  完成，用时 {time.perf_counter() - started:.1f} 秒", file=stream, flush=True)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(table(results), file=stream)
    print(f"结果已写入 {output}", file=stream)
    return results


def _width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width):
    return text + " " * (width - _width(text))


def _fmt(value):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def table(results):
    verdicts = {True: "通过", False: "未通过", None: "参考"}
    headers = ("名称", "数值", "单位", "目标", "结果", "说明")
    rows = [
        (
            str(r["name"]),
            _fmt(r["value"]),
            str(r["unit"] or ""),
            "—" if r["target"] is None else f"< {_fmt(r['target'])}",
            verdicts.get(r["pass"], str(r["pass"])),
            str(r.get("note", "")),
        )
        for r in results
    ]
    widths = [max([_width(h)] + [_width(row[i]) for row in rows]) for i, h in enumerate(headers[:-1])]
    lines = []
    for row in (headers, *rows):
        cells = [_pad(cell, widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="运行 bench/bench_*.py 中的全部性能测试。")
    parser.add_argument("-k", dest="keyword", help="只运行文件名包含该字符串的模块")
    parser.add_argument("--output", default=str(RESULTS), help="结果 JSON 路径")
    args = parser.parse_args(argv)
    paths = discover(keyword=args.keyword)
    if not paths:
        print("没有找到 bench_*.py。", file=sys.stderr)
        return 1
    results = run_all(paths, args.output)
    return 1 if any(r["pass"] is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
