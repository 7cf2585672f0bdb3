"""The owner portal benchmark's pure parts: settings from the environment, the clients' source
addresses and owner numbers, the Redis safety check, the checks of the sign-in answers and rows
and the result entries. No server, no database: the benchmark itself runs with `make bench`."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH_DIR))  # benchmark modules import their siblings by plain name

_spec = importlib.util.spec_from_file_location("bench_owners_under_test", BENCH_DIR / "bench_owners.py")
owners = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(owners)

runner_spec = importlib.util.spec_from_file_location("bench_runner_for_owners", BENCH_DIR / "run.py")
runner = importlib.util.module_from_spec(runner_spec)
runner_spec.loader.exec_module(runner)

CODE_PAGE = "/owner/sign-in/code/?next=%2Fowner%2F"


def test_the_runner_discovers_the_owner_benchmark():
    assert "bench_owners" in [path.stem for path in runner.discover(BENCH_DIR, "owners")]
    assert callable(owners.run)


def test_settings_defaults_and_refusals():
    settings = owners.settings_from_env({})
    assert settings.databases == ("sqlite", "postgres") and settings.cases == 20_000
    assert (settings.clients, settings.signins, settings.events, settings.photos) == (20, 25, 40, 6)
    assert settings.think_ms == (500, 1500) and settings.worker_class == "sync"
    assert settings.postgres_url.endswith("/anju_bench_owners") and settings.http_requests == 20 * 26
    small = owners.settings_from_env({"BENCH_OWNERS_DATABASES": "sqlite", "BENCH_OWNERS_CLIENTS": "4",
                                      "BENCH_OWNERS_THINK_MS": "0"})
    assert (small.databases, small.clients, small.think_ms) == (("sqlite",), 4, (0, 0))
    for bad in ({"BENCH_OWNERS_DATABASES": "oracle"}, {"BENCH_OWNERS_REDIS_URL": "redis://127.0.0.1:6379"},
                {"BENCH_OWNERS_REDIS_URL": "redis://127.0.0.1:6379/0"}, {"BENCH_OWNERS_CLIENTS": "251"},
                {"BENCH_OWNERS_SIGNINS": "0"}, {"BENCH_OWNERS_WORKER_CLASS": "gevent"},
                {"BENCH_OWNERS_THINK_MS": "300-200"}, {"BENCH_OWNERS_CLIENTS": "100", "BENCH_OWNERS_SIGNINS": "120"}):
        with pytest.raises(ValueError):
            owners.settings_from_env(bad)


def test_every_sign_in_request_has_its_own_number_and_address():
    settings = owners.Settings(clients=3, signins=4)
    mobiles = [f"1549999{n:04d}" for n in range(1, settings.http_requests + 1)]
    pairs = [(owners.signin_mobile(mobiles, settings, c, n), owners.source_address(owners.SIGNIN_NET, c, n))
             for c in range(settings.clients) for n in range(settings.signins + 1)]
    assert len({mobile for mobile, _ in pairs}) == len({address for _, address in pairs}) == settings.http_requests
    assert owners.source_address("127.77", 19, 25) == "127.77.19.26"


def test_only_the_benchmarks_own_keys_may_be_flushed():
    assert owners.foreign_keys([b"anju-bench-owners:1:session", "anju-bench-owners:1:rl:x"]) == []
    assert owners.foreign_keys([b"anju-bench-owners:1:a", b"anju:1:pagecache:generation"]) == [
        b"anju:1:pagecache:generation"]
    with pytest.raises(ValueError):
        owners.flush_redis("redis://127.0.0.1:6379/0")  # refused before connecting


def test_sign_in_answers_and_rows_are_checked():
    assert owners.signin_problems([302, 302], [CODE_PAGE, "https://h" + CODE_PAGE]) == []
    problems = owners.signin_problems([302, 429, 200, 302], [CODE_PAGE, "", "", "/owner/"])
    assert len(problems) == 1 and "429×1" in problems[0] and "200×1" in problems[0] and "/owner/" in problems[0]
    good = {"codes": 4, "mobiles": 4, "per_mobile_max": 1, "sms": 4, "ips": 4}
    assert owners.codes_problems(good, 4) == []
    assert owners.codes_problems({**good, "codes": 3, "mobiles": 3, "sms": 3}, 4)
    assert owners.codes_problems({**good, "mobiles": 3, "per_mobile_max": 2}, 4)
    assert owners.codes_problems({**good, "sms": 2}, 4)


def _case(visible, photos):
    return {"visible": visible, "events": visible + 3, "photos": photos}


def _row(median, queries, status=200, problems=()):
    return {"url": "/x/", "median_ms": median, "min_ms": median, "max_ms": median, "status": status,
            "queries": queries, "bytes": 1000, "problems": list(problems)}


def test_page_entries_pass_on_time_queries_and_content():
    setup = {"cases": {"large": _case(40, 6), "small": _case(2, 0)}}
    measured = {
        "case_page": {"large": _row(30.0, 6), "small": _row(120.0, 4)},
        "work_page": {"large": _row(30.0, 16), "small": _row(10.0, 4, problems=["内部备注出现在页面上"])},
    }
    by_name = {entry["name"]: entry for entry in owners.page_entries("owners.sqlite", measured, setup)}
    assert len(by_name) == 8 and all(set(runner.REQUIRED_KEYS) <= set(e) for e in by_name.values())
    assert by_name["owners.sqlite.case_page.large.ms"]["pass"] is True
    assert by_name["owners.sqlite.case_page.large.queries"]["value"] == 6
    assert by_name["owners.sqlite.case_page.small.ms"]["pass"] is False  # too slow
    assert by_name["owners.sqlite.work_page.large.queries"]["pass"] is False  # too many queries
    assert by_name["owners.sqlite.work_page.small.ms"]["pass"] is False and "内部备注" in by_name[
        "owners.sqlite.work_page.small.ms"]["note"]
    measured["case_page"]["large"] = {"url": "/x/", "error": "boom"}
    entries = owners.page_entries("owners.sqlite", measured, setup)
    assert [e["pass"] for e in entries[:2]] == [False, False] and "boom" in entries[0]["note"]


def test_signin_entries_need_every_redirect_and_one_code_per_request():
    settings = owners.Settings(clients=2, signins=2)

    def phase(seconds, statuses, locations):
        return owners.Phase(seconds=seconds, statuses=statuses, locations=locations, wall=1.0)

    phases = {
        "hello_before": phase([0.01] * 4, [200] * 4, [""] * 4),
        "signin": phase([0.05, 0.06, 0.07, 0.08], [302] * 4, [CODE_PAGE] * 4),
        "hello_after": phase([0.02] * 4, [200] * 4, [""] * 4),
    }
    good = {"codes": 6, "mobiles": 6, "per_mobile_max": 1, "sms": 6, "ips": 6}
    entries = owners.signin_entries("owners.sqlite", settings, phases, good)
    assert [e["name"] for e in entries] == ["owners.sqlite.signin.p99_ms", "owners.sqlite.signin.redirects",
                                            "owners.sqlite.signin.baseline.hello_p99_ms"]
    assert entries[0]["value"] == 80.0 and entries[0]["pass"] is True and "p50" in entries[0]["note"]
    assert entries[1]["value"] == 4 and entries[1]["pass"] is None
    assert entries[2]["value"] == 10.0
    assert owners.signin_entries("owners.sqlite", settings, phases, {**good, "codes": 5})[0]["pass"] is False
    phases["signin"] = phase([0.05, 0.06, 0.07, 0.08], [302, 302, 302, 429], [CODE_PAGE] * 3 + [""])
    entries = owners.signin_entries("owners.sqlite", settings, phases, good)
    assert entries[0]["pass"] is False and entries[1]["pass"] is False and "429×1" in entries[1]["note"]
