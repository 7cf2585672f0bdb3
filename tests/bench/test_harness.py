"""The benchmark harness (bench/run.py) and the import benchmark's workbook and checks.
No database: the benchmarks themselves run with `make bench`, not here."""

import importlib.util
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from estates.normalize import normalize_id_number, normalize_mobile

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH_DIR))  # benchmark modules import their siblings by plain name


def load(name, filename):
    spec = importlib.util.spec_from_file_location(name, BENCH_DIR / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = load("bench_runner", "run.py")
workbook = load("estates_workbook", "estates_workbook.py")
bench_import = load("bench_import_under_test", "bench_import.py")

GOOD = '''
def run():
    return [
        {"name": "fake.seconds", "value": 1.5, "unit": "s", "target": 60, "pass": True},
        {"name": "fake.baseline", "value": 0.5, "unit": "s", "target": None, "pass": None,
         "note": "基线"},
    ]
'''


def test_runner_discovers_runs_and_writes_every_result(tmp_path):
    (tmp_path / "bench_good.py").write_text(GOOD)
    (tmp_path / "bench_broken.py").write_text("def run():\n    raise RuntimeError('boom')\n")
    (tmp_path / "bench_partial.py").write_text("def run():\n    return [{'name': 'x'}]\n")
    (tmp_path / "helper.py").write_text("raise SystemExit('not a benchmark')\n")
    output = tmp_path / "results" / "latest.json"

    paths = runner.discover(tmp_path)
    assert [p.name for p in paths] == ["bench_broken.py", "bench_good.py", "bench_partial.py"]
    printed = []
    results = runner.run_all(paths, output, stream=_Collect(printed))

    assert json.loads(output.read_text(encoding="utf-8")) == results
    by_name = {r["name"]: r for r in results}
    assert by_name["fake.seconds"]["pass"] is True
    assert by_name["fake.baseline"]["pass"] is None
    assert by_name["bench_broken"]["pass"] is False and "boom" in by_name["bench_broken"]["note"]
    assert by_name["bench_partial"]["pass"] is False  # entries missing keys are failures
    text = "".join(printed)
    assert "fake.seconds" in text and "通过" in text and "未通过" in text and "< 60" in text
    assert runner.discover(tmp_path, keyword="good") == [tmp_path / "bench_good.py"]


def test_table_aligns_chinese_text():
    results = [
        {"name": "甲", "value": 12.5, "unit": "s", "target": 60, "pass": True},
        {"name": "abcd", "value": None, "unit": "×", "target": None, "pass": None},
    ]
    lines = runner.table(results).splitlines()
    # Column two starts at the same display column on every line.
    starts = {
        runner._width(re.match(r"\S+ {2,}", line).group())
        for line in lines
        if not line.startswith("-")
    }
    assert starts == {6}  # "名称" and "abcd" are 4 columns wide, then two spaces


def test_workbook_has_the_import_layout_and_valid_values(tmp_path):
    path = tmp_path / "estates.xlsx"
    summary = workbook.generate(path, 250)

    assert (summary.units, summary.owners, summary.ownerships) == (250, 250, 250)
    assert summary.buildings == ("1", "2")
    assert workbook.summarize(250) == summary
    book = load_workbook(path, read_only=True)
    # Saved as Excel saves: dimensions stated (read-only openpyxl sizes a sheet from them,
    # instead of parsing it all once more) and strings in the shared table.
    assert book[workbook.UNITS_SHEET].max_row == 251 and book[workbook.OWNERS_SHEET].max_column == 8
    with zipfile.ZipFile(path) as archive:
        assert b"inlineStr" not in archive.read("xl/worksheets/sheet1.xml")
        assert "楼栋".encode() in archive.read("xl/sharedStrings.xml")
    units = list(book[workbook.UNITS_SHEET].iter_rows(values_only=True))
    owners = list(book[workbook.OWNERS_SHEET].iter_rows(values_only=True))
    assert units[0] == workbook.UNIT_HEADERS and owners[0] == workbook.OWNER_HEADERS
    assert len(units) == 251 and len(owners) == 251
    unit_keys = {(b, e, n) for b, e, _f, n, *_rest in units[1:]}
    assert len(unit_keys) == 250
    primaries = {}
    for building, entrance, number, name, mobile, id_number, primary, _start in owners[1:]:
        assert (building, entrance, number) in unit_keys
        assert normalize_mobile(mobile) == mobile
        assert normalize_id_number(id_number) == id_number
        assert 2 <= len(name) <= 3
        primaries.setdefault((building, entrance, number), []).append(primary)
    assert all(flags.count("是") == 1 for flags in primaries.values())
    assert len({row[4] for row in owners[1:]}) == 250  # distinct mobiles
    assert len({row[5] for row in owners[1:]}) == 250  # distinct ID numbers
    assert workbook.read_all(path) == 502


def test_cached_workbook_is_generated_once(tmp_path):
    first = workbook.cached(tmp_path, 30)
    second = workbook.cached(tmp_path, 30)
    assert first[2] is True and second[2] is False
    assert first[0] == second[0] and first[1] == second[1]


@pytest.mark.parametrize(
    "change, problem",
    [
        ({}, None),
        ({"units": 99}, "房号 99 行，应为 100"),
        ({"owners_without_history": 3}, "3 条业主没有创建历史"),
        ({"ownerships_history_created": 0}, "产权关系创建历史 0 行，应为 100"),
        ({"units_unlabelled": 1}, "缺少房号全称"),
    ],
)
def test_import_counts_are_verified(change, problem):
    summary = workbook.Summary(units=100, owners=100, ownerships=100, buildings=("1",))
    counts = {"owners_total": 100, "units_unlabelled": 0}
    for key in ("units", "owners", "ownerships"):
        counts.update({key: 100, f"{key}_history": 100, f"{key}_history_created": 100,
                       f"{key}_without_history": 0})
    counts.update(change)
    problems = bench_import.verify(counts, summary)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


class _Collect:
    def __init__(self, sink):
        self.sink = sink

    def write(self, text):
        self.sink.append(text)

    def flush(self):
        pass
