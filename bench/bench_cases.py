"""Case desk benchmarks at a developer's scale: the large demo (``seed_demo --size large``:
1,000,000 cases over 100,000 units, about 100,000 of them open) loaded once per database, on
SQLite and on PostgreSQL, then:

1. **Case list** ``/admin/snippets/cases/case/``: unfiltered, each queue (``?queue=…`` of
   plugins/cases/queues.py), one filter each (project, status, kind, category, contractor,
   registration date) and a search each by number, by phone and by Chinese text; 20 and 100
   rows a page; as a superuser and as a 客服经理 limited to one project. Target per URL: median
   server time < 150 ms and ≤ 15 queries.
2. **Case page** ``/admin/snippets/cases/case/inspect/<pk>/`` of a case with a 300-event
   timeline, both users: < 100 ms, ≤ 20 queries.
3. **Sweep**: ``clocks.sweep`` (what ``manage.py sweep_cases`` runs) over the whole table at the
   moment the next 5,000 clocks fall due: < 10 s.
4. **Registering over HTTP**: gunicorn (production settings, 2 workers), 20 concurrent clients
   each logged in with its own session, posting the admin's register form with its CSRF token:
   p99 < 200 ms; every response must be the redirect to the new case's page, and afterwards the
   cases must exist with unique numbers. Each client pauses 0.5–1.5 s after a submission (an
   agent registers a case every few minutes; 1 s is already a hundred times busier), so the 20
   post concurrently without the test turning into a queue: with no pause at all, 20 clients
   waiting on each other measure only throughput (Little's law: mean latency = clients ÷
   throughput, whatever the code). That closed-loop figure is reported too, for information
   (``register.saturated_rps``, BENCH_CASES_BURST submissions a client). Before measuring, each
   client registers one case unmeasured (the server's first registrations open its database
   connections and fill its caches), and in each paced phase each client starts after a random
   pause of up to 1.5 s, so the clients are not in lockstep.
5. **Manager pages** (``cases_tasks.py manager``, after 1–2): first ``rollups.rebuild()``, timed
   for information (what ``seed_demo`` runs after the large demo; skipped when the roll-ups exist,
   then only ``rollups.refresh()`` of what is marked), then for both users:

   - the 指标看板 ``/admin/cases/dashboard/`` for the benchmark project and the last whole month
     (``?from=…&to=…&project=…``) and for all projects (the 客服经理: all of theirs) over the 12
     months ending with this one: median < 500 ms, ≤ 25 queries each (its test's bound);
   - its drill-down lists, the URLs built by ``dashboard.drill`` for those two periods: the
     cases in, ``clock_late:contact``, ``clock_late:answer``, ``not_first_time``, ``repeat``,
     ``low_score``, ``closed``, the contractor with most repairs (``holder``) and the category
     with most cases: median < 150 ms, ≤ 15 queries each (as the queues). Each list is also
     counted through the list's own filter set and must hold the dashboard's number of cases
     (at most that many for the per-clock-round and per-call-back figures), so a parameter the
     list ignores fails the entry instead of timing some other list;
   - the 来电登记 look-up ``/admin/cases/intake/?q=…`` by a registered owner's mobile typed as
     ``+86 138-0013-8000``, by the most frequent caller's number with spaces, by the commonest
     owner name and by a unit label (``3-2-1502``), all of the benchmark project: median
     < 100 ms, ≤ 15 queries each.

   Entries ``cases.<db>.dashboard.{project_month,all_year}.<user>_ms``,
   ``cases.<db>.drill.<period>.<list>.<user>_ms``, ``cases.<db>.intake.<query>.<user>_ms``
   (user ``admin`` or ``staff``; the queries in the note and in the pass flag), each group's
   ``queries_max``, and ``rollups.rebuild_seconds`` (or ``rollups.refresh_seconds``). A 4xx or
   500 is a failed entry with its status (and the view's exception), not the end of the run; a
   failure of the whole step is one failed entry (``manager.error``).

1–3 and 5 run in process (``bench/cases_tasks.py``: Django's test client, the time around
``client.get`` after one warm-up, the median of BENCH_CASES_REQUESTS requests; queries counted
with CaptureQueriesContext on one more request). The steps run in the order 1–2, 5, 3, 4 (the
sweep and the registrations change the data). Settings: ``bench/cases_settings.py``
(production, Redis sessions, DEBUG off).

Baselines measured in the same run: ``SELECT 1`` and a count served by an index
(``case_project_status``) for 1–3 and 5; the hello-world view (same middleware) in process for
1–2, and again while 5 runs (``manager.baseline.hello_ms``); for 4, the same 20 clients posting
(CSRF-checked) to the hello view before and after the registrations, p99.

Set-up (``cases_tasks.py setup``): the two users, 300 open cases assigned to each (so "mine" has
rows), 300 notes on one case through ``services.add_note``.

The SQLite database is built once and cached under ``bench/work/cases-cache/``, keyed by the
case count and a hash of the generator's sources (``plugins/cases/demo_large.py``,
``plugins/cases/demo.py``, ``estates/management/commands/seed_demo.py``); each run works on a
copy (the benchmarks write to it) after ``migrate``. PostgreSQL gets a fresh database each run
(created, seeded, dropped).

Environment: BENCH_CASES (cases, default 1000000), BENCH_CASES_DATABASES ("sqlite,postgres"),
BENCH_CASES_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/anju_bench_cases; created
and dropped here), BENCH_CASES_REDIS_URL (default redis://127.0.0.1:6379/13; flushed, never
database 0), BENCH_CASES_REQUESTS (5 per URL), BENCH_CASES_EVENTS (300), BENCH_CASES_ASSIGN
(300), BENCH_CASES_SWEEP_DUE (5000), BENCH_CASES_CLIENTS (20), BENCH_CASES_REGISTRATIONS (25 per
client), BENCH_CASES_THINK_MS (pause after each submission, "500-1500"; "0" for none),
BENCH_CASES_BURST (5 closed-loop submissions a client, informational; 0 skips),
BENCH_CASES_WORKER_CLASS (sync, as the Procfile runs it; or gthread) and BENCH_CASES_THREADS (4, gthread only), BENCH_CASES_CACHE=0
rebuilds the SQLite cache, BENCH_KEEP=1 keeps the PostgreSQL database and bench/work/cases-*/.
The load generator uses ``requests`` (installed with Wagtail) in Python threads.
"""

import hashlib
import json
import math
import os
import random
import re
import resource
import secrets
import shutil
import sqlite3
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from benchkit import (  # noqa: E402
    env_int,
    redis_db,
    think_range,
    REPO,
    WORK,
    checked,
    create_postgres,
    drop_postgres,
    fresh_dir,
    manage,
    result,
    run_python,
)

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/anju_bench_cases"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SETTINGS_MODULE = "bench.cases_settings"
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
TARGET_LIST_MS, TARGET_LIST_QUERIES = 150, 15
TARGET_PAGE_MS, TARGET_PAGE_QUERIES = 100, 20
TARGET_SWEEP_SECONDS = 10
TARGET_REGISTER_P99_MS = 200
#: 指标看板 (plugins/cases/dashboard_views.py): median and queries (its test allows 25).
TARGET_DASHBOARD_MS, TARGET_DASHBOARD_QUERIES = 500, 25
#: Drill-down lists: the case list's targets.
TARGET_DRILL_MS, TARGET_DRILL_QUERIES = TARGET_LIST_MS, TARGET_LIST_QUERIES
#: 来电登记 look-up (plugins/cases/intake_views.py; its test asserts ≤ 15 queries).
TARGET_INTAKE_MS, TARGET_INTAKE_QUERIES = 100, 15
#: "A few minutes" for the generator's cases alone (the registry and portal are seed_demo's).
TARGET_SEED_SECONDS = 300
GENERATOR_SOURCES = ("plugins/cases/demo_large.py", "plugins/cases/demo.py",
                     "estates/management/commands/seed_demo.py")
# Sync workers, as the Procfile deploys them: a registration is CPU-bound Python, and threads of
# one worker wait on each other for the GIL. Measured here at 1M cases (p99 of registering):
# gthread 2×4 threads 258 ms, sync 2 workers 141 ms on PostgreSQL.
DEFAULT_WORKER_CLASS = "sync"

REGISTER_MARK = "压测报事人"
#: The warm-up registration's number in registration_form (the measured ones count from 0).
WARM_UP_N = 999
SUCCESS_RE = re.compile(r"/admin/snippets/cases/case/inspect/(\d+)/$")
SEED_LINE_RE = re.compile(r"大规模演示工单：[\d,]+ 张.*?用时 ([\d.]+) 秒")
HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-CN,zh;q=0.9"}
USER_KEYS = {"bench-admin": "admin", "bench-staff": "staff"}


# --- Settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    cases: int = 1_000_000
    databases: tuple = ("sqlite", "postgres")
    postgres_url: str = DEFAULT_POSTGRES_URL
    redis_url: str = DEFAULT_REDIS_URL
    requests: int = 5
    events: int = 300
    assign: int = 300
    sweep_due: int = 5000
    clients: int = 20
    registrations: int = 25
    think_ms: tuple = (500, 1500)
    burst: int = 5
    worker_class: str = DEFAULT_WORKER_CLASS
    threads: int = 4
    cache: bool = True
    keep: bool = False


def settings_from_env(environ=os.environ):
    databases = tuple(name.strip() for name in environ.get("BENCH_CASES_DATABASES", "sqlite,postgres").split(",")
                      if name.strip())
    unknown = set(databases) - set(LABELS)
    if unknown:
        raise ValueError(f"unknown BENCH_CASES_DATABASES entries: {sorted(unknown)}")
    settings = Settings(
        cases=env_int(environ, "BENCH_CASES", 1_000_000),
        databases=databases,
        postgres_url=environ.get("BENCH_CASES_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        redis_url=environ.get("BENCH_CASES_REDIS_URL", DEFAULT_REDIS_URL),
        requests=env_int(environ, "BENCH_CASES_REQUESTS", 5),
        events=env_int(environ, "BENCH_CASES_EVENTS", 300, 0),
        assign=env_int(environ, "BENCH_CASES_ASSIGN", 300, 0),
        sweep_due=env_int(environ, "BENCH_CASES_SWEEP_DUE", 5000),
        clients=env_int(environ, "BENCH_CASES_CLIENTS", 20),
        registrations=env_int(environ, "BENCH_CASES_REGISTRATIONS", 25),
        think_ms=think_range(environ, "BENCH_CASES_THINK_MS"),
        burst=env_int(environ, "BENCH_CASES_BURST", 5, 0),
        worker_class=environ.get("BENCH_CASES_WORKER_CLASS", DEFAULT_WORKER_CLASS).strip(),
        threads=env_int(environ, "BENCH_CASES_THREADS", 4),
        cache=environ.get("BENCH_CASES_CACHE", "1") != "0",
        keep=bool(environ.get("BENCH_KEEP")),
    )
    if settings.worker_class not in ("sync", "gthread"):
        raise ValueError("BENCH_CASES_WORKER_CLASS must be sync or gthread")
    if redis_db(settings.redis_url) == 0:
        raise ValueError("BENCH_CASES_REDIS_URL must name a Redis database other than 0: the run flushes it")
    return settings


# --- Pure helpers (tested in tests/bench/test_bench_cases.py) -----------------------------------


def percentile(values, pct):
    """The nearest-rank percentile (p99 of 500 samples is the 5th largest); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def generator_key(repo=REPO, count=1_000_000):
    """The SQLite cache's key: the case count, the generator's version and a hash of its
    sources, so any change to them builds a new database."""
    digest = hashlib.sha1()
    version = "0"
    for name in GENERATOR_SOURCES:
        path = Path(repo) / name
        text = path.read_bytes() if path.exists() else b""
        digest.update(name.encode() + b"\0" + text + b"\0")
        found = re.search(rb"^GENERATOR_VERSION = (\d+)", text, re.M)
        if found:
            version = found.group(1).decode()
    return f"v{version}-{count}-{digest.hexdigest()[:10]}"


def seed_seconds(output):
    """The generator's own time from its summary line in seed_demo's or the seed task's output."""
    found = SEED_LINE_RE.search(output or "")
    return float(found.group(1)) if found else None


def register_problems(statuses, locations):
    """What makes the registration run invalid: responses other than the redirect to a case
    page, as Chinese phrases."""
    problems = []
    wrong = {}
    for status, location in zip(statuses, locations):
        if status != 302 or not SUCCESS_RE.search(location or ""):
            key = f"{status}" + (f"→{location}" if location else "")
            wrong[key] = wrong.get(key, 0) + 1
    if wrong:
        problems.append("非成功跳转：" + "、".join(f"{key}×{count}" for key, count in sorted(wrong.items())))
    return problems


def list_entries(database, measured):
    """Result entries of the case list measurements (``cases_tasks.py admin``'s "lists")."""
    out, worst_queries = [], 0
    for row in measured:
        user = USER_KEYS.get(row["user"], row["user"])
        name = f"cases.{database}.list.{user}.{row['name']}"
        if "error" in row:
            out.append(result(name, None, "ms", TARGET_LIST_MS, False, note=f"出错：{row['error']}"))
            continue
        worst_queries = max(worst_queries, row["queries"])
        ok = row["status"] == 200 and row["median_ms"] < TARGET_LIST_MS and row["queries"] <= TARGET_LIST_QUERIES
        note = (f"{row['queries']} 次查询（上限 {TARGET_LIST_QUERIES}）；最快 {row['min_ms']} ms，最慢 {row['max_ms']} ms；"
                f"{row['url']}")
        if row["status"] != 200:
            note = f"状态 {row['status']}；" + note
        out.append(result(name, row["median_ms"], "ms", TARGET_LIST_MS, ok, note=note))
    if measured:
        out.append(result(f"cases.{database}.list.queries_max", worst_queries, "次查询", TARGET_LIST_QUERIES + 1,
                          worst_queries <= TARGET_LIST_QUERIES, note="所有列表请求中查询次数的最大值（≤ 15）"))
    return out


def page_entries(database, measured, events):
    out = []
    for row in measured:
        user = USER_KEYS.get(row["user"], row["user"])
        name = f"cases.{database}.case_page.{user}"
        if "error" in row:
            out.append(result(name, None, "ms", TARGET_PAGE_MS, False, note=f"出错：{row['error']}"))
            continue
        ok = row["status"] == 200 and row["median_ms"] < TARGET_PAGE_MS and row["queries"] <= TARGET_PAGE_QUERIES
        out.append(result(name, row["median_ms"], "ms", TARGET_PAGE_MS, ok,
                          note=f"时间线 {events} 条；{row['queries']} 次查询（上限 {TARGET_PAGE_QUERIES}）；"
                               f"状态 {row['status']}；{row['url']}"))
    return out


PERIOD_LABELS = {"project_month": "单项目上一个整月", "all_year": "全部项目近 12 个月"}
DRILL_LABELS = {
    "cases_in": "受理量", "clock_late_contact": "联系业主超时", "clock_late_answer": "投诉答复超时",
    "not_first_time": "未能一次修好", "repeat": "重复报修", "low_score": "低分回访", "closed": "已关闭",
    "holder": "报修最多的施工单位（一次机会）", "category": "工单最多的分类",
}
INTAKE_LABELS = {"owner_mobile": "业主手机号（+86、连字符）", "caller_mobile": "常来电号码（空格分隔）",
                 "owner_name": "最常见的业主姓名", "unit_label": "房号"}


def drill_problem(row):
    """Why a drill-down list is not the dashboard figure's cases, as a Chinese phrase ("" when
    it is): the list must count the figure's number of cases — at most that many for figures
    the dashboard counts per clock round or per call-back (``at_most``), and some when it is not
    0. A parameter the list ignores (a misspelt filter) shows here as too many rows."""
    if "rows_error" in row:
        return f"列表条数未能核对（{row['rows_error']}）"
    rows, expected = row.get("rows"), row.get("expected")
    if rows is None or expected is None:
        return ""
    ignored = f"，列表忽略了参数 {'、'.join(row['ignored'])}" if row.get("ignored") else ""
    if row.get("at_most"):
        if rows > expected or (expected > 0) != (rows > 0):
            return f"列表 {rows:,} 张，与看板数字 {expected:,} 不符（应不多于且非零时不为零）{ignored}"
    elif rows != expected:
        return f"列表 {rows:,} 张 ≠ 看板数字 {expected:,}{ignored}"
    return ""


def _timed_entry(name, row, target_ms, target_queries, what, problem=""):
    """One measured GET as a result entry: failed (with its status or error, or ``problem``)
    unless a 200 under both targets."""
    if "median_ms" not in row:
        return result(name, None, "ms", target_ms, False, note=f"{what}；出错：{row.get('error', '?')}；{row['url']}")
    ok = (row["status"] == 200 and "error" not in row and not problem and row["median_ms"] < target_ms
          and row["queries"] <= target_queries)
    note = (f"{what}；{row['queries']} 次查询（上限 {target_queries}）；最快 {row['min_ms']} ms，"
            f"最慢 {row['max_ms']} ms；{row['url']}")
    if problem:
        note = f"问题：{problem}；" + note
    if row["status"] != 200 or "error" in row:
        note = f"状态 {row['status']}" + (f"（{row['error']}）" if "error" in row else "") + "；" + note
    return result(name, row["median_ms"], "ms", target_ms, ok, note=note)


def _queries_max(name, rows, target, what):
    counted = [row["queries"] for row in rows if "queries" in row and row.get("status") == 200]
    if not counted:
        return []
    worst = max(counted)
    return [result(name, worst, "次查询", target + 1, worst <= target, note=f"{what}查询次数的最大值（≤ {target}）")]


def manager_entries(database, measured):
    """Result entries of ``cases_tasks.py manager``: the roll-ups' rebuild (informational), the
    指标看板, its drill-down lists and the 来电登记 look-up, per user."""
    prefix = f"cases.{database}"
    out = []
    built = measured.get("rollups", {})
    if "error" in built:
        out.append(result(f"{prefix}.rollups.rebuild_seconds", None, "s", None, False,
                          note=f"汇总表重建出错：{built['error']}"))
    elif built.get("rebuilt"):
        out.append(result(f"{prefix}.rollups.rebuild_seconds", built["seconds"], "s",
                          note=f"参考：rollups.rebuild()（seed_demo 在大规模演示数据后运行）：{built['months']} 个月、"
                               f"{built['rows']:,} 行汇总，{built['cases']:,} 张工单；随后 refresh {built['refresh_seconds']} s"))
    elif built:
        out.append(result(f"{prefix}.rollups.refresh_seconds", built.get("refresh_seconds"), "s",
                          note=f"参考：汇总表已存在（未重建）；rollups.refresh() 重算 {built.get('refresh_cohorts')} 个"
                               f"批次（{built.get('marks')} 个标记），共 {built.get('rows', 0):,} 行汇总"))
    if measured.get("baseline", {}).get("hello_ms") is not None:
        out.append(result(f"{prefix}.manager.baseline.hello_ms", measured["baseline"]["hello_ms"], "ms",
                          note="基线：看板/下钻/来电登记测量时的进程内 hello 视图（同一中间件，已登录）"))
    for problem in measured.get("problems", []):
        out.append(result(f"{prefix}.manager.setup", None, "", None, False, note=f"准备出错：{problem}"))
    periods = measured.get("periods", {})
    for row in measured.get("dashboard", []):
        user = USER_KEYS.get(row["user"], row["user"])
        period = periods.get(f"{row['name']}.{row['user']}", {})
        what = (f"指标看板，{PERIOD_LABELS.get(row['name'], row['name'])}（{period.get('label', '?')}），"
                f"受理 {row.get('cases_in', '?'):,} 张，汇总 {row.get('rollup_rows', '?'):,} 行"
                if "cases_in" in row else f"指标看板，{PERIOD_LABELS.get(row['name'], row['name'])}")
        out.append(_timed_entry(f"{prefix}.dashboard.{row['name']}.{user}_ms", row, TARGET_DASHBOARD_MS,
                                TARGET_DASHBOARD_QUERIES, what))
    out += _queries_max(f"{prefix}.dashboard.queries_max", measured.get("dashboard", []), TARGET_DASHBOARD_QUERIES,
                        "所有看板请求中")
    for row in measured.get("drill", []):
        user = USER_KEYS.get(row["user"], row["user"])
        period_name, _sep, drill_name = row["name"].partition(".")
        what = (f"下钻：{PERIOD_LABELS.get(period_name, period_name)} · {DRILL_LABELS.get(drill_name, drill_name)}，"
                f"看板数字 {row.get('expected')}，列表 {row.get('rows', '?')} 张")
        out.append(_timed_entry(f"{prefix}.drill.{row['name']}.{user}_ms", row, TARGET_DRILL_MS, TARGET_DRILL_QUERIES,
                                what, drill_problem(row)))
    out += _queries_max(f"{prefix}.drill.queries_max", measured.get("drill", []), TARGET_DRILL_QUERIES,
                        "所有下钻列表请求中")
    for row in measured.get("intake", []):
        user = USER_KEYS.get(row["user"], row["user"])
        found = (f"识别为 {row.get('kind') or '?'}，业主 {row.get('owners', '?')}、房屋 {row.get('units', '?')}、"
                 f"工单 {row.get('cases', '?')}" + (f"，{row['lookup_error']}" if row.get("lookup_error") else ""))
        what = f"来电登记：{INTAKE_LABELS.get(row['name'], row['name'])} “{row['q']}”，{found}"
        out.append(_timed_entry(f"{prefix}.intake.{row['name']}.{user}_ms", row, TARGET_INTAKE_MS,
                                TARGET_INTAKE_QUERIES, what))
    out += _queries_max(f"{prefix}.intake.queries_max", measured.get("intake", []), TARGET_INTAKE_QUERIES,
                        "所有来电登记查询中")
    for username, perms in measured.get("users", {}).items():
        missing = [name for name, granted in perms.items() if not granted]
        if missing:
            out.append(result(f"{prefix}.manager.permissions.{USER_KEYS.get(username, username)}", None, "", None,
                              False, note=f"{username} 缺少权限：{', '.join('cases.' + m for m in missing)}"))
    return out


# --- Databases -----------------------------------------------------------------------------------


def django_env(settings, database_url, data_dir, secret):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DATABASE_URL=database_url,
        REDIS_URL=settings.redis_url,
        CACHE_KEY_PREFIX="anju-bench-cases",
        SECRET_KEY=secret,
        ID_HASH_KEY="bench-cases-id-hash-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        ANJU_DATA_DIR=str(data_dir),
        PYTHONPATH=str(REPO),
        LOG_LEVEL="WARNING",
        ANJU_DEMO_CASES=str(settings.cases),
    )
    return env


def tasks(env, *args, timeout=3600):
    """Run bench/cases_tasks.py and return its JSON answer and the process's seconds."""
    completed, seconds = run_python([BENCH_DIR / "cases_tasks.py", *map(str, args)], env, timeout=timeout)
    checked(completed, f"cases_tasks {args[0]}")
    return json.loads(completed.stdout.strip().splitlines()[-1]), seconds, completed.stdout


def _child_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seed(env):
    """seed_demo --size large, then the generator itself if seed_demo did not run it (a plugin
    hook not passing ``size`` on). Returns timings."""
    cpu = _child_cpu()
    completed, demo_seconds = manage(["seed_demo", "--size", "large"], env, timeout=7200)
    checked(completed, "seed_demo --size large")
    answer, task_seconds, output = tasks(env, "seed", timeout=7200)
    generator = seed_seconds(completed.stdout) if not answer["seeded"] else answer["seconds"]
    return {
        "seed_demo_seconds": round(demo_seconds, 1),
        "task_seconds": round(task_seconds, 1),
        "generator_seconds": generator,
        "by_seed_demo": not answer["seeded"],
        "cpu_seconds": round(_child_cpu() - cpu, 1),
    }


def sqlite_database(settings, data_dir, secret):
    """A copy of the cached, seeded SQLite database (built first if missing), migrated."""
    cache_dir = WORK / "cases-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = generator_key(REPO, settings.cases)
    cached = cache_dir / f"cases-{key}.sqlite3"
    info_path = cached.with_suffix(".json")
    built = False
    if not settings.cache or not cached.exists() or not info_path.exists():
        building = cache_dir / f"building-{key}"
        fresh_dir(building)
        path = building / "anju.sqlite3"
        env = django_env(settings, f"sqlite:///{path}", building, secret)
        started = time.perf_counter()
        checked(manage(["migrate", "--noinput", "-v", "0"], env, timeout=1800)[0], "migrate")
        migrate_seconds = time.perf_counter() - started
        info = {"migrate_seconds": round(migrate_seconds, 1), **seed(env), "built": time.strftime("%Y-%m-%d %H:%M")}
        _checkpoint(path)
        for old in cache_dir.glob(f"cases-v*-{settings.cases}-*.sqlite3"):
            old.unlink()
            old.with_suffix(".json").unlink(missing_ok=True)
        shutil.move(str(path), cached)
        info_path.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(building, ignore_errors=True)
        built = True
    info = json.loads(info_path.read_text(encoding="utf-8"))
    target = data_dir / "anju.sqlite3"
    shutil.copyfile(cached, target)
    url = f"sqlite:///{target}"
    checked(manage(["migrate", "--noinput", "-v", "0"], django_env(settings, url, data_dir, secret),
                   timeout=1800)[0], "migrate")
    return url, {**info, "cached": not built}


def _checkpoint(path):
    """Fold the WAL into the database file, so the cached file stands alone."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def postgres_database(settings, data_dir, secret):
    url = settings.postgres_url
    create_postgres(url)
    env = django_env(settings, url, data_dir, secret)
    started = time.perf_counter()
    checked(manage(["migrate", "--noinput", "-v", "0"], env, timeout=1800)[0], "migrate")
    info = {"migrate_seconds": round(time.perf_counter() - started, 1), **seed(env), "cached": False}
    return url, info


# --- HTTP registration ---------------------------------------------------------------------------


class HttpClient:
    """One staff member's browser: its own session and CSRF cookies (kept by hand: production
    marks them Secure and the benchmark talks plain HTTP to gunicorn behind a pretend TLS
    proxy), ``X-Forwarded-Proto: https`` and a same-origin Referer as a browser sends."""

    #: Set by a successful registration for the page the browser would go to next; the next
    #: page would consume it, so it is not sent back.
    DROPPED_COOKIES = {"messages"}

    def __init__(self, base):
        import requests

        self.base = base
        self.host = base.split("://", 1)[1]
        self.session = requests.Session()
        self.session.trust_env = False
        self.cookies = {}

    def request(self, method, path, data=None):
        headers = {**HEADERS, "Referer": f"https://{self.host}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.session.request(method, self.base + path, data=data, headers=headers,
                                        allow_redirects=False, timeout=120)
        for header in response.raw.headers.getlist("Set-Cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            name = name.strip()
            if name in self.DROPPED_COOKIES:
                continue
            if value and "max-age=0" not in header.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        self.session.cookies.clear()
        return response

    @property
    def csrf(self):
        return self.cookies.get("csrftoken", "")

    def login(self, username, password):
        self.request("GET", "/admin/login/")
        response = self.request("POST", "/admin/login/", {
            "username": username, "password": password, "csrfmiddlewaretoken": self.csrf, "next": "/admin/",
        })
        if response.status_code != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {username} failed: {response.status_code}")


@dataclass
class Phase:
    seconds: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    locations: list = field(default_factory=list)
    wall: float = 0.0

    def ms(self, pct):
        value = percentile(self.seconds, pct)
        return None if value is None else round(value * 1000, 1)


def registration_form(setup, client_no, n):
    units = setup["units"]
    unit = units[(client_no * 7919 + n) % len(units)] if units else ""
    return {
        "kind": "repair", "channel": "hotline", "category": setup["register_category"], "priority": "normal",
        "complaint_grade": "", "project": "" if unit else setup["project"], "unit": unit, "building": "",
        "owner": "", "reporter_name": f"{REGISTER_MARK}{client_no:02d}-{n:03d}",
        "reporter_mobile": f"154{(client_no * 1000 + n) % 100_000_000:08d}",
        "description": f"压测登记：主卫地漏返水，楼下邻居说天花板有水印，请尽快安排师傅上门（{client_no}-{n}）。",
    }


def http_register(settings, env, setup, log_path):
    """hello ×R, register ×R, hello ×R per client, all clients at once in each phase."""
    import bench_pages

    # Keep-alive as long as a proxy's: the clients wait at a barrier between phases, longer than
    # gunicorn's default of 2 s, and a POST on a connection the server has just closed fails.
    env = {**env, "GUNICORN_CMD_ARGS": f"{env.get('GUNICORN_CMD_ARGS', '')} --keep-alive 75".strip()}
    server = bench_pages.Gunicorn(
        bench_pages.Settings(worker_class=settings.worker_class, threads=settings.threads), env, log_path)
    try:
        server.wait_ready(setup["hello"])
        clients = []
        for client_no in range(settings.clients):
            client = HttpClient(server.base)
            client.login("bench-staff", setup["password"])
            client.request("GET", setup["register"])  # warm-up: the form, its choices, the token
            # …and one registration each, not measured: the first one in each worker thread
            # opens its database connection and fills the per-process caches, which a server
            # that has been up for an hour has long done.
            warm = client.request("POST", setup["register"], {
                **registration_form(setup, client_no, WARM_UP_N), "csrfmiddlewaretoken": client.csrf})
            if warm.status_code != 302:
                raise RuntimeError(f"warm-up registration failed: {warm.status_code}")
            clients.append(client)
        phases = {"hello_before": Phase(), "register": Phase(), "hello_after": Phase()}
        if settings.burst:
            phases["burst"] = Phase()
        lock = threading.Lock()
        barrier = threading.Barrier(settings.clients)
        errors = []

        def work(client_no, client):
            rng = random.Random(f"bench-cases-client-{client_no}")
            try:
                for name, phase in phases.items():
                    client.session.close()  # fresh connections for each phase
                    barrier.wait()
                    started = time.perf_counter()
                    if name != "burst" and settings.think_ms[1]:
                        # Each client starts after a pause like its others, so the 20 are not in
                        # lockstep: agents do not all press "register" in the same millisecond.
                        time.sleep(rng.uniform(0, settings.think_ms[1]) / 1000)
                    count = settings.burst if name == "burst" else settings.registrations
                    for n in range(count):
                        if name in ("register", "burst"):
                            number = n if name == "register" else settings.registrations + n
                            path, data = setup["register"], registration_form(setup, client_no, number)
                        else:
                            path, data = setup["hello"], {}
                        data = {**data, "csrfmiddlewaretoken": client.csrf}
                        began = time.perf_counter()
                        response = client.request("POST", path, data)
                        spent = time.perf_counter() - began
                        with lock:
                            phase.seconds.append(spent)
                            phase.statuses.append(response.status_code)
                            phase.locations.append(response.headers.get("Location", ""))
                        if name != "burst" and settings.think_ms[1]:
                            time.sleep(rng.uniform(*settings.think_ms) / 1000)
                    with lock:
                        phase.wall = max(phase.wall, time.perf_counter() - started)
            except Exception as error:  # noqa: BLE001 - reported, and the barrier released
                errors.append(f"{type(error).__name__}: {error}")
                barrier.abort()

        threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError("load client failed: " + errors[0])
        return phases
    finally:
        server.stop()


def register_entries(database, settings, phases, verified, expected):
    register = phases["register"]
    burst = phases.get("burst")
    problems = register_problems(register.statuses, register.locations)
    if burst is not None:
        problems += [f"满负荷阶段：{p}" for p in register_problems(burst.statuses, burst.locations)]
    for name in ("hello_before", "hello_after"):
        wrong = sum(1 for status in phases[name].statuses if status != 200)
        if wrong:
            problems.append(f"hello 非 200 响应 {wrong} 个")
    if verified["cases"] != expected:
        problems.append(f"库中有 {verified['cases']} 张压测工单，应为 {expected}")
    if verified["unique_numbers"] != verified["cases"]:
        problems.append(f"工单号重复：{verified['cases']} 张只有 {verified['unique_numbers']} 个号码")
    if verified["with_register_event"] != verified["cases"]:
        problems.append("部分工单缺少登记记录")
    p99 = register.ms(99)
    rps = len(register.seconds) / register.wall if register.wall else None
    think = (f"每次提交后停 {settings.think_ms[0]}–{settings.think_ms[1]} ms" if settings.think_ms[1]
             else "不停顿（闭环满负荷）")
    params = (f"{settings.clients} 个并发客户端 × {settings.registrations} 次，{think}；gunicorn 2 个 "
              f"{settings.worker_class} worker"
              + (f"×{settings.threads} 线程" if settings.worker_class == "gthread" else ""))
    hello = [phases[name].ms(99) for name in ("hello_before", "hello_after")]
    out = [
        result(f"cases.{database}.register.p99_ms", p99, "ms", TARGET_REGISTER_P99_MS,
               not problems and p99 is not None and p99 < TARGET_REGISTER_P99_MS,
               note=f"p50 {register.ms(50)} ms，p90 {register.ms(90)} ms，最大 {register.ms(100)} ms；"
                    f"{rps or 0:.1f} 次/秒；{params}；核对：{verified['cases']} 张，号码不重复 {verified['unique_numbers']} 个"
                    + ("；问题：" + "；".join(problems) if problems else "")),
        result(f"cases.{database}.register.baseline.hello_p99_ms", min(h for h in hello if h is not None)
               if any(h is not None for h in hello) else None, "ms",
               note=f"基线：同样的客户端并发 POST hello 视图（同一中间件，含 CSRF 校验）；前 {hello[0]} ms / 后 {hello[1]} ms，取较低者"),
    ]
    if burst is not None and burst.seconds:
        out.append(result(
            f"cases.{database}.register.saturated_rps",
            round(len(burst.seconds) / burst.wall, 1) if burst.wall else None, "次/秒",
            note=f"参考：{settings.clients} 个客户端不停顿各提交 {settings.burst} 次（闭环满负荷）时的吞吐；"
                 f"p50 {burst.ms(50)} ms，p99 {burst.ms(99)} ms。闭环下平均延迟 ≈ 客户端数 ÷ 吞吐"))
    return out


# --- The benchmark -----------------------------------------------------------------------------


def run():
    settings = settings_from_env()
    results = []
    for database in settings.databases:
        results.extend(bench_database(database, settings))
    return results


def flush_redis(url):
    import redis

    if redis_db(url) == 0:
        raise ValueError("refusing to flush Redis database 0")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def bench_database(database, settings):
    label = LABELS[database]
    data_dir = fresh_dir(WORK / f"cases-{database}")
    secret = secrets.token_urlsafe(50)
    prefix = f"cases.{database}"
    try:
        flush_redis(settings.redis_url)
        if database == "sqlite":
            url, info = sqlite_database(settings, data_dir, secret)
        else:
            url, info = postgres_database(settings, data_dir, secret)
        env = django_env(settings, url, data_dir, secret)
        counted = tasks(env, "counts")[0]
        setup, _seconds, _out = tasks(env, "setup", settings.events, settings.assign)
        setup_path = data_dir / "setup.json"
        setup_path.write_text(json.dumps(setup, ensure_ascii=False), encoding="utf-8")
        admin = tasks(env, "admin", settings.requests, setup_path)[0]
        try:  # the dashboard's code failing must not cost the rest of the run
            managed = tasks(env, "manager", settings.requests, setup_path)[0]
        except Exception as error:
            traceback.print_exc()
            managed = {"error": f"{type(error).__name__}: {str(error)[:400]}"}
        swept = tasks(env, "sweep", settings.sweep_due)[0]
        phases = http_register(settings, env, setup, data_dir / "gunicorn.log")
        verified = tasks(env, "registered", REGISTER_MARK)[0]
    except Exception as error:
        traceback.print_exc()
        return [result(f"{prefix}.error", None, "", None, False,
                       note=f"{label}：出错：{type(error).__name__}: {str(error)[:400]}")]
    finally:
        try:
            flush_redis(settings.redis_url)
        except Exception:
            traceback.print_exc()
        if database == "postgres" and not settings.keep:
            try:
                drop_postgres(settings.postgres_url)
            except Exception:
                traceback.print_exc()
        if not settings.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    data_note = (f"{label}：工单 {counted['cases']:,} 张（未结 {counted['open']:,}），记录 {counted['events']:,} 条，"
                 f"时限 {counted['clocks']:,} 个（进行中 {counted['running_clocks']:,}）"
                 + ("" if counted["search_words"] else "；search_words 为空"))
    generated = info.get("generator_seconds")
    cache_note = "（缓存的数据库，生成于 " + info.get("built", "?") + "）" if info.get("cached") else ""
    out = [
        result(f"{prefix}.seed_cases.seconds", generated, "s", TARGET_SEED_SECONDS,
               generated is not None and generated < TARGET_SEED_SECONDS,
               note=f"{settings.cases:,} 张工单的生成与写入{cache_note}；"
                    + ("由 seed_demo --size large 生成" if info.get("by_seed_demo") else
                       "seed_demo 未调用大规模生成（apps.py 未传 size），由 cases_tasks.py seed 生成")
                    + f"；{data_note}"),
        result(f"{prefix}.seed_demo.seconds", info.get("seed_demo_seconds"), "s",
               note=f"参考：seed_demo --size large 整条命令（楼盘档案、门户、演示工单{'、大规模工单' if info.get('by_seed_demo') else ''}），"
                    f"子进程 CPU 合计 {info.get('cpu_seconds')} s，migrate {info.get('migrate_seconds')} s{cache_note}"),
    ]
    baseline = admin["baseline"]
    out += [
        result(f"{prefix}.baseline.select1_ms", baseline["select1_ms"], "ms", note="基线：进程内 SELECT 1"),
        result(f"{prefix}.baseline.count_ms", baseline["count_ms"], "ms",
               note=f"基线：按索引计数（项目 {setup['project_name']} 处理中 {baseline['count_rows']:,} 张）"),
        result(f"{prefix}.baseline.hello_ms", baseline["hello_ms"], "ms",
               note="基线：进程内测试客户端 GET hello 视图（同一中间件，已登录）"),
    ]
    out += list_entries(database, admin["lists"])
    out += page_entries(database, admin["case_page"], setup["case_events"])
    if "error" in managed:
        out.append(result(f"{prefix}.manager.error", None, "", None, False,
                          note=f"{label}：指标看板/下钻/来电登记的测量出错：{managed['error']}"))
    else:
        out += manager_entries(database, managed)
    if "error" in swept:
        out.append(result(f"{prefix}.sweep.seconds", None, "s", TARGET_SWEEP_SECONDS, False, note=swept["error"]))
    else:
        out += [
            result(f"{prefix}.sweep.seconds", swept["seconds"], "s", TARGET_SWEEP_SECONDS,
                   swept["seconds"] < TARGET_SWEEP_SECONDS and swept["clocks"] > 0,
                   note=f"到期时限 {swept['due']:,} 个：提醒 {swept['reminded']:,}，超时 {swept['breached']:,}，"
                        f"升级 {swept['escalated']:,}（{swept['cases']:,} 张工单）；共 {swept['cases_total']:,} 张工单、"
                        f"进行中时限 {swept['running_clocks']:,} 个；随后同一时刻再巡检用时 {swept['again_seconds']} s"),
            result(f"{prefix}.sweep.baseline.count_ms", swept["count_ms"], "ms",
                   note="基线：按部分索引统计到期时限数"),
        ]
    out += register_entries(database, settings, phases, verified,
                            settings.clients * (settings.registrations + settings.burst + 1))
    return out
