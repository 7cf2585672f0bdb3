"""The page-throughput benchmark's pure parts: wrk output, validity of a measurement, the
baseline and ratios, the result entries and the gunicorn command. No server, no database: the
benchmark itself runs with `make bench`."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH_DIR))  # benchmark modules import their siblings by plain name

_spec = importlib.util.spec_from_file_location("bench_pages_under_test",
                                               BENCH_DIR / "bench_pages.py")
pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pages)

# wrk 4.1 with the benchmark's Lua script (bench_pages.WRK_SCRIPT), as printed.
WRK_WITH_SCRIPT = """\
Running 10s test @ http://127.0.0.1:40123/faq/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.49ms   84.75ms 440.82ms   90.68%
    Req/Sec   525.62    117.42   680.00     86.54%
  2760 requests in 3.01s, 27.93MB read
Requests/sec:    915.87
Transfer/sec:      9.27MB
bench status 200 2760
bench cache miss 2
bench cache hit 2758
bench summary requests=2760 duration_us=3013518 bytes=29286362 connect=0 read=0 write=0 status=0 timeout=0
bench latency_us p50=3494 p90=91834 p99=404120 max=440821
"""

# wrk counts a redirect as a success ("status=0", no "Non-2xx" line): only the script sees it.
WRK_REDIRECTS = """\
  8773 requests in 3.01s, 2.72MB read
Requests/sec:   2916.86
bench status 301 8773
bench cache none 8773
bench summary requests=8773 duration_us=3007690 bytes=2851545 connect=0 read=0 write=0 status=0 timeout=0
bench latency_us p50=1264 p90=2191 p99=10116 max=25015
"""

# wrk's own report only (no script), with server errors and socket errors.
WRK_PLAIN = """\
Running 10s test @ http://127.0.0.1:40123/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   150.30ms   20.10ms 300.00ms   70.00%
    Req/Sec    26.00      5.00    40.00     70.00%
  260 requests in 10.02s, 1.60MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 13
Requests/sec:     25.95
Transfer/sec:    163.90KB
"""


def run_of(rps, statuses=None, caches=None, seconds=10.0):
    requests = round(rps * seconds)
    return pages.WrkRun(
        requests=requests, seconds=seconds, statuses=statuses or {200: requests},
        caches=caches or {"none": requests},
        errors=dict.fromkeys(("connect", "read", "write", "status", "timeout"), 0),
        latency_ms={"p50": 1.0, "p90": 2.0, "p99": 3.0, "max": 4.0},
    )


def test_parse_wrk_reads_the_script_lines():
    run = pages.parse_wrk(WRK_WITH_SCRIPT)
    assert run.requests == 2760
    assert run.seconds == pytest.approx(3.013518)
    assert run.rps == pytest.approx(915.87, abs=0.01)  # what wrk printed
    assert run.statuses == {200: 2760}
    assert run.caches == {"hit": 2758, "miss": 2}
    assert run.errors == {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    assert run.latency_ms == {"p50": 3.494, "p90": 91.834, "p99": 404.12, "max": 440.821}
    assert run.bytes == 29286362
    assert pages.problems(run) == []
    assert pages.cache_note(run) == "页面缓存命中 2,758/2,760"


def test_a_redirect_is_a_problem_even_though_wrk_counts_it_as_success():
    run = pages.parse_wrk(WRK_REDIRECTS)
    assert run.errors["status"] == 0 and run.statuses == {301: 8773}
    assert pages.problems(run) == ["非 200 响应：301×8,773"]
    assert pages.cache_note(run) == "未经页面缓存"


def test_parse_wrk_falls_back_to_wrks_own_report():
    run = pages.parse_wrk(WRK_PLAIN)
    assert run.requests == 260 and run.seconds == pytest.approx(10.02)
    assert run.rps == pytest.approx(25.95, abs=0.01)
    assert run.statuses == {200: 247, 0: 13}
    assert run.errors == {"connect": 0, "read": 2, "write": 0, "timeout": 1, "status": 13}
    found = pages.problems(run)
    assert found[0] == "非 200 响应：非2xx/3xx×13"
    assert found[1] == "套接字错误：read 2、timeout 1"


@pytest.mark.parametrize("text", ["", "unable to connect to 127.0.0.1:1 Connection refused"])
def test_parse_wrk_refuses_output_without_a_count(text):
    with pytest.raises(ValueError):
        pages.parse_wrk(text)


def test_problems_of_mixed_statuses_and_an_empty_run():
    run = run_of(100, statuses={200: 990, 500: 7, 302: 3})
    assert pages.problems(run) == ["非 200 响应：302×3、500×7"]
    empty = pages.WrkRun(requests=0, seconds=10.0)
    assert pages.problems(empty) == ["没有完成任何请求"]
    uncounted = run_of(100, statuses={200: 900})
    assert pages.problems(uncounted) == ["100 个请求没有状态码"]


def test_baseline_is_the_highest_hello_and_slowdown_a_ratio():
    assert pages.baseline(2000.0, 2600.0) == 2600.0
    assert pages.baseline(1100.0, 1000.0, 2600.0, 2400.0) == 2600.0
    assert pages.baseline(2600.0, None) == 2600.0
    assert pages.baseline(None, None) is None
    assert pages.baseline() is None
    assert pages.slowdown(2600.0, 260.0) == pytest.approx(10.0)
    assert pages.slowdown(2600.0, 0) is None
    assert pages.slowdown(None, 100.0) is None


def test_measurement_ignores_an_invalid_hello_run():
    measurement = pages.Measurement("x", hello_before=run_of(3000, statuses={500: 30000}),
                                    hello_after=run_of(2000))
    assert measurement.hello_figures() == [pytest.approx(2000.0)]
    assert pages.Measurement("x").hello_figures() == []
    assert "301" in pages.Measurement("x", failures={"hello": ["/h/ 返回 301"]}).hello_note()


URLS = {"hello": "/bench-hello/", "home": "/", "project": "/hz-yylt/",
        "bulletin": "/bulletins/b/", "faq": "/faq/", "search": "/search/?q=%E6%BC%8F%E6%B0%B4"}


def test_entries_pass_below_ten_and_fail_on_slow_or_broken_pages():
    cached = pages.Measurement(
        "生产默认", hello_before=run_of(1200), hello_after=run_of(1100),
        pages={"home": run_of(1000, caches={"hit": 10000}), "project": run_of(200),
               "bulletin": run_of(250), "faq": run_of(300)},
        failures={"search": ["/search/?q=x 返回 500"]},
    )
    uncached = pages.Measurement(
        "ANJU_PAGE_CACHE_SECONDS=0", hello_before=run_of(2400), hello_after=run_of(2500),
        pages={name: run_of(50) for name in pages.PAGES},
    )
    results = pages.entries(URLS, cached, uncached, "参数")
    by_name = {entry["name"]: entry for entry in results}
    for entry in results:
        assert set(entry) >= {"name", "value", "unit", "target", "pass"}

    # The highest of the four hello figures, whichever configuration measured it.
    assert by_name["pages.hello_rps"]["value"] == 2500.0
    assert by_name["pages.hello_rps"]["pass"] is None
    assert "生产默认：前 1,200.0 / 后 1,100.0" in by_name["pages.hello_rps"]["note"]
    assert "ANJU_PAGE_CACHE_SECONDS=0：前 2,400.0 / 后 2,500.0" in by_name["pages.hello_rps"]["note"]
    assert "pages.hello_rps_uncached" not in by_name
    assert by_name["pages.home.slowdown"] | {"note": ""} == {
        "name": "pages.home.slowdown", "value": 2.5, "unit": "×", "target": 10, "pass": True,
        "note": ""}
    assert "页面缓存命中 10,000/10,000" in by_name["pages.home.rps"]["note"]
    assert by_name["pages.project.slowdown"]["value"] == 12.5
    assert by_name["pages.project.slowdown"]["pass"] is False
    assert by_name["pages.bulletin.slowdown"]["value"] == 10.0
    assert by_name["pages.bulletin.slowdown"]["pass"] is False  # the bound is strict
    assert by_name["pages.faq.slowdown"]["pass"] is True
    # A page that answered 500 fails with the reason and is not measured.
    assert "pages.search.rps" not in by_name
    assert by_name["pages.search.slowdown"]["pass"] is False
    assert by_name["pages.search.slowdown"]["value"] is None
    assert "返回 500" in by_name["pages.search.slowdown"]["note"]

    for name in pages.PAGES:
        entry = by_name[f"pages.{name}.slowdown_uncached"]
        assert entry["pass"] is None and entry["target"] is None
        assert entry["value"] == 50.0  # the same baseline as the targets
        assert "50.0 req/s" in entry["note"]
    names = [entry["name"] for entry in results]
    assert names.index("pages.hello_rps") == 0
    assert names.index("pages.search.slowdown") < names.index("pages.home.slowdown_uncached")


def test_entries_fail_every_page_without_a_valid_baseline():
    broken = pages.Measurement("x", failures={"hello": ["/bench-hello/ 返回 301"]},
                               pages={name: run_of(100) for name in pages.PAGES})
    results = pages.entries(URLS, broken, broken, "")
    targets = [e for e in results if e["name"].endswith(".slowdown")]
    assert len(targets) == 5
    assert all(e["pass"] is False and e["value"] is None for e in targets)
    assert all("基线无效" in e["note"] for e in targets)


def test_failed_entries_name_every_target():
    results = pages.failed_entries(pages.WRK_MISSING)
    assert [e["name"] for e in results] == [f"pages.{n}.slowdown" for n in pages.PAGES]
    assert all(e["pass"] is False and e["target"] == 10 for e in results)
    assert "apt-get install -y wrk" in results[0]["note"]


def test_run_fails_clearly_without_wrk(monkeypatch):
    monkeypatch.setattr(pages.shutil, "which", lambda name: None)
    results = pages.run()
    assert len(results) == 5 and all(e["pass"] is False for e in results)
    assert all("apt-get install -y wrk" in e["note"] for e in results)


def test_settings_from_env():
    settings = pages.settings_from_env({})
    assert settings.postgres_url.endswith("/anju_bench_pages")
    assert pages.redis_db(settings.redis_url) not in (0, None)
    assert (settings.seconds, settings.connections, settings.worker_class) == (10, 4, "gthread")
    custom = pages.settings_from_env({"BENCH_PAGES_SECONDS": "3", "BENCH_PAGES_WORKER_CLASS":
                                      "sync", "BENCH_KEEP": "1"})
    assert (custom.seconds, custom.worker_class, custom.keep) == (3, "sync", True)
    with pytest.raises(ValueError, match="other than 0"):
        pages.settings_from_env({"BENCH_PAGES_REDIS_URL": "redis://127.0.0.1:6379/0"})
    with pytest.raises(ValueError, match="other than 0"):
        pages.settings_from_env({"BENCH_PAGES_REDIS_URL": "redis://127.0.0.1:6379"})
    with pytest.raises(ValueError):
        pages.settings_from_env({"BENCH_PAGES_WORKER_CLASS": "gevent"})


def test_gunicorn_command_has_two_workers_on_loopback():
    command = pages.gunicorn_command(pages.Settings(), 40123)
    assert command[1:4] == ["-m", "gunicorn", "config.wsgi:application"]
    assert command[command.index("--bind") + 1] == "127.0.0.1:40123"
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert command[command.index("--threads") + 1] == "4"
    plain = pages.gunicorn_command(pages.Settings(worker_class="sync"), 1)
    assert "--threads" not in plain


def test_first_configuration_is_production_default(tmp_path, monkeypatch):
    monkeypatch.setenv("ANJU_PAGE_CACHE_SECONDS", "5")
    env = pages.django_env(pages.Settings(), tmp_path, tmp_path / "static")
    assert "ANJU_PAGE_CACHE_SECONDS" not in env  # production's default, whatever the shell says
    assert env["DJANGO_SETTINGS_MODULE"] == "bench.pages_settings"
    assert env["ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert env["SECRET_KEY"] and env["ID_HASH_KEY"]
    keys = [key for key, _extra, _description in pages.CONFIGURATIONS]
    assert keys == ["cached", "uncached"]
    assert pages.CONFIGURATIONS[1][1] == {"ANJU_PAGE_CACHE_SECONDS": "0"}


def test_wrk_script_prints_what_the_parser_reads():
    for marker in ("bench status", "bench cache", "bench summary requests=", "bench latency_us"):
        assert marker in pages.WRK_SCRIPT
    assert 'headers["X-Page-Cache"]' in pages.WRK_SCRIPT
