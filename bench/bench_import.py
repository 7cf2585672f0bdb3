"""Import benchmark: 100,000 units and 100,000 owners with their ownerships from one workbook,
through ``manage.py import_estates FILE --project CODE``, once on a fresh SQLite file and once on
a fresh PostgreSQL database. Target: under 60 s each, history rows included; the entry fails if
the counts of rows or history rows are wrong.

Baselines measured in the same run, so a reader can tell a busy machine from a regression:
reading the whole workbook with openpyxl in read-only mode, and a raw driver insert of as many
rows as the import writes (units, owners, ownerships and one history row each) into the same
database. ``import.<db>.vs_baseline`` is the import time divided by their sum.

Environment: BENCH_IMPORT_UNITS (default 100000), BENCH_IMPORT_DATABASES (default
"sqlite,postgres"), BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/anju_bench_import;
created and dropped here), BENCH_KEEP=1 keeps the SQLite file under bench/work/.
"""

import os
import shutil
import time
import traceback

import estates_workbook as workbook
from benchkit import (
    DEFAULT_POSTGRES_URL,
    WORK,
    checked,
    create_postgres,
    django_env,
    djtask,
    drop_postgres,
    fresh_dir,
    manage,
    raw_insert_postgres,
    raw_insert_sqlite,
    raw_rows,
    result,
)

TARGET_SECONDS = 60
PROJECT_CODE = "BENCH"
PROJECT_NAME = "性能测试花园"
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def settings_from_env():
    units = int(os.environ.get("BENCH_IMPORT_UNITS", "100000"))
    databases = [
        name.strip()
        for name in os.environ.get("BENCH_IMPORT_DATABASES", "sqlite,postgres").split(",")
        if name.strip()
    ]
    unknown = set(databases) - set(LABELS)
    if unknown:
        raise ValueError(f"unknown BENCH_IMPORT_DATABASES entries: {sorted(unknown)}")
    return units, databases, os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def run():
    units, databases, postgres_url = settings_from_env()
    results = []
    started = time.perf_counter()
    path, summary, generated = workbook.cached(WORK, units)
    if generated:
        results.append(result(
            "import.workbook.generate", round(time.perf_counter() - started, 2), "s",
            note=f"openpyxl write_only，房号 {summary.units:,} 行，业主 {summary.owners:,} 行（之后复用缓存）",
        ))

    started = time.perf_counter()
    read_rows = workbook.read_all(path)
    read_seconds = time.perf_counter() - started
    results.append(result(
        "import.baseline.read_xlsx", round(read_seconds, 2), "s",
        note=f"基线：openpyxl 只读模式读完整个工作簿（{read_rows:,} 行）",
    ))

    # Units, owners, ownerships and one history row each.
    rows = raw_rows(2 * (summary.units + summary.owners + summary.ownerships))
    for database in databases:
        results.extend(bench_database(database, path, summary, rows, read_seconds, postgres_url))
    return results


def bench_database(database, path, summary, rows, read_seconds, postgres_url):
    label = LABELS[database]
    name = f"import.{database}"
    data_dir = fresh_dir(WORK / f"import-{database}")
    if database == "sqlite":
        sqlite_path = data_dir / "anju.sqlite3"
        url = f"sqlite:///{sqlite_path}"
    else:
        url = postgres_url
    env = django_env(url, data_dir)
    if manage(["help", "import_estates"], env, timeout=120)[0].returncode != 0:
        shutil.rmtree(data_dir, ignore_errors=True)
        return [result(f"{name}.seconds", None, "s", TARGET_SECONDS, False,
                       note="import_estates 命令尚不存在，未能测量")]
    try:
        if database == "postgres":
            create_postgres(url)
        checked(manage(["migrate", "--noinput", "-v", "0"], env, timeout=1800)[0], "migrate")
        djtask(env, "setup", PROJECT_CODE, PROJECT_NAME, *summary.buildings)

        completed, seconds = manage(
            ["import_estates", str(path), "--project", PROJECT_CODE], env, timeout=1800
        )
        problems = []
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
            problems.append(f"退出码 {completed.returncode}：" + " / ".join(tail))
        counts = djtask(env, "counts", PROJECT_CODE)
        problems.extend(verify(counts, summary))

        if database == "sqlite":
            raw_seconds = raw_insert_sqlite(str(data_dir / "baseline.sqlite3"), rows)
        else:
            raw_seconds = raw_insert_postgres(url, rows)
    except Exception as error:  # one database failing must not hide the other's figures
        traceback.print_exc()
        return [result(f"{name}.seconds", None, "s", TARGET_SECONDS, False,
                       note=f"出错：{type(error).__name__}: {str(error)[:300]}")]
    finally:
        if database == "postgres":
            try:
                drop_postgres(url)
            except Exception:
                traceback.print_exc()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(data_dir, ignore_errors=True)

    ratio = seconds / (read_seconds + raw_seconds)
    counted = (
        f"房号 {counts['units']:,}、业主 {counts['owners']:,}、产权 {counts['ownerships']:,}，"
        f"历史 {counts['units_history']:,}/{counts['owners_history']:,}/{counts['ownerships_history']:,}"
    )
    note = f"{label}，含进程启动；{counted}"
    if problems:
        note += "；问题：" + "；".join(problems)
    return [
        result(f"{name}.seconds", round(seconds, 2), "s", TARGET_SECONDS,
               not problems and seconds < TARGET_SECONDS, note=note),
        result(f"{name}.baseline.raw_insert", round(raw_seconds, 2), "s",
               note=f"基线：驱动直接插入 {len(rows):,} 行（同库、单事务 executemany）"),
        result(f"{name}.vs_baseline", round(ratio, 2), "×",
               note="导入耗时 ÷（读取基线 + 插入基线）；机器繁忙时基线也变慢，看比值可分辨回归与噪声"),
    ]


def verify(counts, summary):
    """Problems with the imported rows, as Chinese sentences; empty when all is right."""
    problems = []
    expected = {"units": summary.units, "owners": summary.owners, "ownerships": summary.ownerships}
    names = {"units": "房号", "owners": "业主", "ownerships": "产权关系"}
    for key, want in expected.items():
        if counts[key] != want:
            problems.append(f"{names[key]} {counts[key]:,} 行，应为 {want:,}")
        if counts[f"{key}_without_history"]:
            problems.append(f"{counts[f'{key}_without_history']:,} 条{names[key]}没有创建历史")
        if counts[f"{key}_history_created"] != counts[key]:
            problems.append(
                f"{names[key]}创建历史 {counts[f'{key}_history_created']:,} 行，应为 {counts[key]:,}"
            )
    if counts["owners_total"] != summary.owners:
        problems.append(f"业主表共 {counts['owners_total']:,} 行，应为 {summary.owners:,}")
    if counts["units_unlabelled"]:
        problems.append(f"{counts['units_unlabelled']:,} 套房号缺少房号全称")
    return problems
