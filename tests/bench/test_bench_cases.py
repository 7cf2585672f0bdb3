"""The case desk benchmark's pure parts: settings from the environment, percentiles, the SQLite
cache key, the generator's time from its output, the checks of the registration responses and
the result entries. No server, no database: the benchmark itself runs with `make bench`."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH_DIR))  # benchmark modules import their siblings by plain name

_spec = importlib.util.spec_from_file_location("bench_cases_under_test", BENCH_DIR / "bench_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

runner_spec = importlib.util.spec_from_file_location("bench_runner_for_cases", BENCH_DIR / "run.py")
runner = importlib.util.module_from_spec(runner_spec)
runner_spec.loader.exec_module(runner)


def test_the_runner_discovers_the_case_benchmark():
    assert "bench_cases" in [path.stem for path in runner.discover(BENCH_DIR, "cases")]
    assert callable(cases.run)


def test_settings_default_to_a_million_cases_on_both_databases():
    settings = cases.settings_from_env({})
    assert settings.cases == 1_000_000
    assert settings.databases == ("sqlite", "postgres")
    assert settings.clients == 20 and settings.events == 300 and settings.sweep_due == 5000
    assert settings.postgres_url.endswith("/anju_bench_cases") and settings.cache
    assert settings.think_ms == (500, 1500) and settings.burst == 5


def test_settings_scale_down_and_refuse_nonsense():
    settings = cases.settings_from_env({"BENCH_CASES": "20_000", "BENCH_CASES_DATABASES": "sqlite",
                                        "BENCH_CASES_CLIENTS": "4", "BENCH_CASES_CACHE": "0"})
    assert (settings.cases, settings.databases, settings.clients, settings.cache) == (20000, ("sqlite",), 4, False)
    with pytest.raises(ValueError):
        cases.settings_from_env({"BENCH_CASES_DATABASES": "oracle"})
    with pytest.raises(ValueError):
        cases.settings_from_env({"BENCH_CASES_REDIS_URL": "redis://127.0.0.1:6379/0"})
    with pytest.raises(ValueError):
        cases.settings_from_env({"BENCH_CASES": "0"})
    with pytest.raises(ValueError):
        cases.settings_from_env({"BENCH_CASES_WORKER_CLASS": "gevent"})
    assert cases.settings_from_env({"BENCH_CASES_THINK_MS": "0"}).think_ms == (0, 0)
    assert cases.settings_from_env({"BENCH_CASES_THINK_MS": "200-300"}).think_ms == (200, 300)
    with pytest.raises(ValueError):
        cases.settings_from_env({"BENCH_CASES_THINK_MS": "300-200"})


def test_percentile_is_nearest_rank():
    values = list(range(1, 501))  # 1..500
    assert cases.percentile(values, 99) == 495  # the 5th largest of 500
    assert cases.percentile(values, 50) == 250
    assert cases.percentile([7], 99) == 7
    assert cases.percentile([], 99) is None
    assert cases.percentile([3, 1, 2], 100) == 3


def test_the_cache_key_follows_the_count_and_the_generator_sources(tmp_path):
    for name in cases.GENERATOR_SOURCES:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("GENERATOR_VERSION = 3\n" if name.endswith("demo_large.py") else "x = 1\n")
    key = cases.generator_key(tmp_path, 1000)
    assert key.startswith("v3-1000-")
    assert cases.generator_key(tmp_path, 1000) == key
    assert cases.generator_key(tmp_path, 2000) != key
    (tmp_path / cases.GENERATOR_SOURCES[1]).write_text("x = 2\n")
    assert cases.generator_key(tmp_path, 1000) != key
    assert cases.generator_key(cases.REPO, 10).startswith("v")  # the real sources are found


def test_the_generators_own_time_is_read_from_its_summary_line():
    output = ("演示数据（大规模）：\n  大规模演示工单：已写入 200,000 张\n"
              "大规模演示工单：1,000,000 张（未结 100,203 张），记录 4,453,812 条，时限 237,659 个（进行中 125,868 个），"
              "用时 192.1 秒\n")
    assert cases.seed_seconds(output) == 192.1
    assert cases.seed_seconds("演示数据（大规模）：\n已全部存在") is None


def test_only_redirects_to_a_case_page_count_as_registered():
    ok = "/admin/snippets/cases/case/inspect/812/"
    assert cases.register_problems([302, 302], [ok, "https://h" + ok]) == []
    problems = cases.register_problems([302, 400, 302, 500], [ok, "", "/admin/login/", ""])
    assert len(problems) == 1
    assert "400×1" in problems[0] and "500×1" in problems[0] and "/admin/login/" in problems[0]


def test_registration_forms_are_distinct_and_marked():
    setup = {"units": [11, 12, 13], "register_category": 2, "project": 1}
    forms = [cases.registration_form(setup, client, n) for client in range(3) for n in range(4)]
    assert len({form["reporter_name"] for form in forms}) == 12
    assert all(form["reporter_name"].startswith(cases.REGISTER_MARK) for form in forms)
    assert all(form["unit"] in (11, 12, 13) and form["project"] == "" for form in forms)
    assert all(len(form["reporter_mobile"]) == 11 for form in forms)
    assert cases.registration_form({"units": [], "register_category": 2, "project": 5}, 0, 0)["project"] == 5


def _row(name, median, queries, user="bench-admin", status=200):
    return {"user": user, "name": name, "url": f"/admin/snippets/cases/case/?{name}", "median_ms": median,
            "min_ms": median, "max_ms": median, "status": status, "queries": queries}


def test_list_entries_pass_on_time_and_queries_and_name_the_user():
    entries = cases.list_entries("sqlite", [
        _row("all.20", 80.0, 10), _row("all.100", 160.0, 10), _row("status.20", 90.0, 16, user="bench-staff"),
        _row("kind.20", 20.0, 9, status=500), {"user": "bench-staff", "name": "kind.100", "error": "boom"},
    ])
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["cases.sqlite.list.admin.all.20"]["pass"] is True
    assert by_name["cases.sqlite.list.admin.all.100"]["pass"] is False  # too slow
    assert by_name["cases.sqlite.list.staff.status.20"]["pass"] is False  # too many queries
    assert by_name["cases.sqlite.list.admin.kind.20"]["pass"] is False  # not a 200
    assert by_name["cases.sqlite.list.staff.kind.100"]["pass"] is False and "boom" in by_name[
        "cases.sqlite.list.staff.kind.100"]["note"]
    worst = by_name["cases.sqlite.list.queries_max"]
    assert worst["value"] == 16 and worst["pass"] is False
    assert all(set(runner.REQUIRED_KEYS) <= set(entry) for entry in entries)


def test_case_page_entries():
    entries = cases.page_entries("postgres", [
        {"user": "bench-admin", "url": "/x/", "median_ms": 60.0, "status": 200, "queries": 17},
        {"user": "bench-staff", "url": "/x/", "median_ms": 60.0, "status": 200, "queries": 21},
    ], 300)
    assert [entry["pass"] for entry in entries] == [True, False]
    assert entries[0]["name"] == "cases.postgres.case_page.admin" and "300" in entries[0]["note"]


def test_register_entries_need_every_response_and_every_case():
    settings = cases.Settings(clients=2, registrations=2, burst=0)
    ok = "/admin/snippets/cases/case/inspect/9/"

    def phase(seconds, statuses, locations):
        return cases.Phase(seconds=seconds, statuses=statuses, locations=locations, wall=1.0)

    phases = {
        "hello_before": phase([0.01] * 4, [200] * 4, [""] * 4),
        "register": phase([0.05, 0.06, 0.07, 0.08], [302] * 4, [ok] * 4),
        "hello_after": phase([0.02] * 4, [200] * 4, [""] * 4),
    }
    good = {"cases": 4, "unique_numbers": 4, "with_register_event": 4, "with_history": 4}
    entries = cases.register_entries("sqlite", settings, phases, good, 4)
    assert entries[0]["name"] == "cases.sqlite.register.p99_ms"
    assert entries[0]["value"] == 80.0 and entries[0]["pass"] is True
    assert entries[1]["value"] == 10.0 and entries[1]["pass"] is None
    duplicate = {**good, "unique_numbers": 3}
    assert cases.register_entries("sqlite", settings, phases, duplicate, 4)[0]["pass"] is False
    missing = {**good, "cases": 3, "unique_numbers": 3, "with_register_event": 3}
    assert cases.register_entries("sqlite", settings, phases, missing, 4)[0]["pass"] is False
    # The closed-loop phase is informational, but its responses must be right too.
    phases["burst"] = phase([0.5, 0.6], [302, 500], [ok, ""])
    entries = cases.register_entries("sqlite", settings, phases, good, 4)
    assert entries[0]["pass"] is False and "满负荷" in entries[0]["note"]
    assert entries[-1]["name"] == "cases.sqlite.register.saturated_rps" and entries[-1]["value"] == 2.0
