"""Owner portal benchmarks: the owner's case page, the contractor's work page and the sign-in
code request, on a fresh SQLite database and (optionally) a fresh PostgreSQL database:

1. **Owner case page** ``/cases/c/<number>/`` for a signed-in owner (signed in through the real
   code flow: ``POST /owner/sign-in/``, the code read from the database SMS backend's
   ``SmsRecord``, ``POST /owner/sign-in/code/``) and **contractor page** ``/cases/w/<token>/``
   (``worklinks.path_for``), each for a case with a realistic timeline (BENCH_OWNERS_EVENTS = 40
   owner-visible events: registration, dispatch, the contractor's call and arrival, photos
   (BENCH_OWNERS_PHOTOS = 6, two an upload), notes; plus internal notes the page must hide) and
   for a case that was just dispatched. In process (``bench/owners_tasks.py``: Django's test
   client, the time around ``client.get`` after one warm-up, the median of
   BENCH_OWNERS_REQUESTS requests; queries counted with CaptureQueriesContext on one more
   request, each page's count an entry of its own). Target: median < 100 ms, ≤ 15 queries. The
   rendered page is checked too: the case number, every owner-visible note and photo, no
   internal note, and (owner page) the owner recognised as the case's owner.
2. **Sign-in code request** ``POST /owner/sign-in/`` over HTTP: gunicorn with 2 sync workers
   (as the Procfile runs it), production settings with Redis sessions and rate limits,
   BENCH_OWNERS_CLIENTS = 20 concurrent clients, each with its own session and CSRF cookie,
   posting BENCH_OWNERS_SIGNINS = 25 times with a pause of 0.5–1.5 s after each (and a random
   start within 1.5 s, so the clients are not in lockstep). Target: p99 < 200 ms; every answer
   must be the redirect to the code page (302), and afterwards exactly one ``SignInCode`` row
   (and one recorded SMS) per request sent must exist, each for its own number.

   **Rate limits**: production's limits are left as they are (their checks run and are part
   of the time measured); the load is shaped so that none is reached: every request is for an
   owner number of its own (owners created by the set-up, ``1549999xxxx``), so the per-number
   limits (1 a minute, 5 an hour) never count past 1, and every request comes from a loopback
   address of its own (``127.77.<client>.<n>``; Linux routes all of 127/8 to lo, and gunicorn
   sees it as REMOTE_ADDR), so the per-IP limit (20 an hour) never does either. Before each
   client posts, it is warmed up with one unmeasured sign-in request (it opens the worker's
   database connection and fills the per-process caches).

Baselines measured in the same run: in process, ``SELECT 1`` and the hello-world view of
``bench/cases_urls.py`` (same middleware, the owner's session) for 1; over HTTP, the same
clients posting (CSRF-checked) to the hello view before and after the sign-ins, p99, for 2.
Also informational: the sign-in code request in process (median and queries).

Data: ``migrate``, ``seed_demo`` (small: two projects, about 2,000 units and 2,200 owners),
then ``plugins.cases.demo_large`` with BENCH_OWNERS_CASES = 20,000 cases over those units
(10 a unit, the large demo's density), then the set-up: the two measured cases on the demo unit
that already has the most cases, registered and dispatched through ``services`` as staff would,
and the owners for the sign-in requests. Settings: ``bench/cases_settings.py`` (production +
the hello view, DEBUG off).

Environment: BENCH_OWNERS_DATABASES ("sqlite,postgres"), BENCH_OWNERS_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/anju_bench_owners; created and dropped here),
BENCH_OWNERS_REDIS_URL (default redis://127.0.0.1:6379/11; flushed before and after, refused if
it is database 0 or holds keys not under this benchmark's prefix), BENCH_OWNERS_CASES (20000),
BENCH_OWNERS_REQUESTS (20), BENCH_OWNERS_EVENTS (40), BENCH_OWNERS_PHOTOS (6),
BENCH_OWNERS_CLIENTS (20), BENCH_OWNERS_SIGNINS (25 per client), BENCH_OWNERS_THINK_MS
("500-1500"; "0" for none), BENCH_OWNERS_WORKER_CLASS (sync, or gthread with
BENCH_OWNERS_THREADS, 4), BENCH_KEEP=1 keeps the PostgreSQL database and bench/work/owners-*/.
"""

import json
import os
import random
import secrets
import shutil
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bench_cases import HttpClient, Phase, percentile  # noqa: E402,F401 (percentile: tests)
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

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/anju_bench_owners"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
CACHE_KEY_PREFIX = "anju-bench-owners"
SETTINGS_MODULE = "bench.cases_settings"
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
TARGET_PAGE_MS, TARGET_PAGE_QUERIES = 100, 15
TARGET_SIGNIN_P99_MS = 200
#: Where the sign-in code request redirects on success.
CODE_PAGE = "/owner/sign-in/code/"
#: The first two octets of the clients' loopback addresses, per phase kind.
SIGNIN_NET, HELLO_NET = "127.77", "127.78"
PAGES = {"case_page": "业主工单页", "work_page": "维修单位派工页"}
SIZES = {"large": "长时间线", "small": "刚派单"}


# --- Settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    databases: tuple = ("sqlite", "postgres")
    postgres_url: str = DEFAULT_POSTGRES_URL
    redis_url: str = DEFAULT_REDIS_URL
    cases: int = 20_000
    requests: int = 20
    events: int = 40
    photos: int = 6
    clients: int = 20
    signins: int = 25
    think_ms: tuple = (500, 1500)
    worker_class: str = "sync"
    threads: int = 4
    keep: bool = False

    @property
    def http_requests(self):
        """Sign-in requests over HTTP: each client's warm-up and its measured ones."""
        return self.clients * (self.signins + 1)


def settings_from_env(environ=os.environ):
    databases = tuple(name.strip() for name in environ.get("BENCH_OWNERS_DATABASES", "sqlite,postgres").split(",")
                      if name.strip())
    unknown = set(databases) - set(LABELS)
    if unknown or not databases:
        raise ValueError(f"unknown BENCH_OWNERS_DATABASES entries: {sorted(unknown)}")
    settings = Settings(
        databases=databases,
        postgres_url=environ.get("BENCH_OWNERS_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        redis_url=environ.get("BENCH_OWNERS_REDIS_URL", DEFAULT_REDIS_URL),
        cases=env_int(environ, "BENCH_OWNERS_CASES", 20_000),
        requests=env_int(environ, "BENCH_OWNERS_REQUESTS", 20),
        events=env_int(environ, "BENCH_OWNERS_EVENTS", 40, 2),
        photos=env_int(environ, "BENCH_OWNERS_PHOTOS", 6, 0),
        # Loopback addresses 127.77.<client>.<request>: one octet each.
        clients=env_int(environ, "BENCH_OWNERS_CLIENTS", 20, 1, 250),
        signins=env_int(environ, "BENCH_OWNERS_SIGNINS", 25, 1, 249),
        think_ms=think_range(environ, "BENCH_OWNERS_THINK_MS"),
        worker_class=environ.get("BENCH_OWNERS_WORKER_CLASS", "sync").strip(),
        threads=env_int(environ, "BENCH_OWNERS_THREADS", 4),
        keep=bool(environ.get("BENCH_KEEP")),
    )
    if settings.worker_class not in ("sync", "gthread"):
        raise ValueError("BENCH_OWNERS_WORKER_CLASS must be sync or gthread")
    if redis_db(settings.redis_url) == 0:
        raise ValueError("BENCH_OWNERS_REDIS_URL must name a Redis database other than 0: the run flushes it")
    if settings.http_requests + settings.requests + 2 > 9999:
        raise ValueError("too many sign-in requests: the benchmark's owners have 4-digit numbers")
    return settings


# --- Pure helpers (tested in tests/bench/test_bench_owners.py) ----------------------------------


def source_address(net, client_no, n):
    """The loopback address a client's n-th request comes from (n = 0 is its warm-up)."""
    return f"{net}.{client_no}.{n + 1}"


def signin_mobile(mobiles, settings, client_no, n):
    """The owner number of a client's n-th sign-in request (n = 0 is its warm-up): each request
    its own, so no per-number limit is reached."""
    return mobiles[client_no * (settings.signins + 1) + n]


def foreign_keys(keys, prefix=CACHE_KEY_PREFIX):
    """Keys in the benchmark's Redis database that are not the benchmark's cache keys."""
    marker = f"{prefix}:".encode()
    return [key for key in keys if not (key if isinstance(key, bytes) else str(key).encode()).startswith(marker)]


def signin_problems(statuses, locations):
    """Answers other than the redirect to the code page, as a Chinese phrase (empty when none)."""
    wrong = {}
    for status, location in zip(statuses, locations):
        if status != 302 or urlsplit(location or "").path != CODE_PAGE:
            key = f"{status}" + (f"→{location}" if location and status == 302 else "")
            wrong[key] = wrong.get(key, 0) + 1
    if not wrong:
        return []
    return ["非成功跳转：" + "、".join(f"{key}×{count}" for key, count in sorted(wrong.items()))]


def codes_problems(verified, expected):
    """What the SignInCode/SmsRecord rows say is wrong: one row per request sent, each number once."""
    problems = []
    if verified["codes"] != expected:
        problems.append(f"登录验证码记录 {verified['codes']} 条，应为 {expected} 条（每个请求一条）")
    if verified["mobiles"] != verified["codes"] or verified["per_mobile_max"] > 1:
        problems.append(f"号码重复：{verified['codes']} 条只涉及 {verified['mobiles']} 个号码")
    if verified["sms"] != verified["codes"]:
        problems.append(f"短信记录 {verified['sms']} 条，与验证码记录 {verified['codes']} 条不符")
    return problems


def page_entries(prefix, measured, setup):
    """Two entries per page and case: the median time and the query count."""
    out = []
    for page, page_label in PAGES.items():
        for size, size_label in SIZES.items():
            row = measured[page][size]
            case = setup["cases"][size]
            name = f"{prefix}.{page}.{size}"
            if "error" in row:
                out.append(result(f"{name}.ms", None, "ms", TARGET_PAGE_MS, False, note=f"出错：{row['error']}"))
                out.append(result(f"{name}.queries", None, "次查询", TARGET_PAGE_QUERIES + 1, False,
                                  note=f"出错：{row['error']}"))
                continue
            problems = list(row.get("problems") or [])
            if row["status"] != 200:
                problems.insert(0, f"状态 {row['status']}")
            what = (f"{page_label}，{size_label}：业主可见记录 {case['visible']} 条（共 {case['events']} 条），"
                    f"照片 {case['photos']} 张")
            out.append(result(
                f"{name}.ms", row["median_ms"], "ms", TARGET_PAGE_MS,
                not problems and row["median_ms"] < TARGET_PAGE_MS,
                note=f"{what}；最快 {row['min_ms']} ms，最慢 {row['max_ms']} ms；{row['bytes']:,} 字节"
                     + ("；问题：" + "；".join(problems) if problems else "")))
            out.append(result(
                f"{name}.queries", row["queries"], "次查询", TARGET_PAGE_QUERIES + 1,
                row["status"] == 200 and row["queries"] <= TARGET_PAGE_QUERIES,
                note=f"{page_label}（{size_label}）的查询次数（上限 {TARGET_PAGE_QUERIES}）"))
    return out


def signin_entries(prefix, settings, phases, verified):
    signin = phases["signin"]
    problems = signin_problems(signin.statuses, signin.locations)
    problems += codes_problems(verified, settings.http_requests)
    for name in ("hello_before", "hello_after"):
        wrong = sum(1 for status in phases[name].statuses if status != 200)
        if wrong:
            problems.append(f"hello 非 200 响应 {wrong} 个")
    p99 = signin.ms(99)
    ok = sum(1 for status, location in zip(signin.statuses, signin.locations)
             if status == 302 and urlsplit(location or "").path == CODE_PAGE)
    others = {}
    for status in signin.statuses:
        if status != 302:
            others[status] = others.get(status, 0) + 1
    rps = len(signin.seconds) / signin.wall if signin.wall else 0
    think = (f"每次请求后停 {settings.think_ms[0]}–{settings.think_ms[1]} ms" if settings.think_ms[1]
             else "不停顿（闭环满负荷）")
    params = (f"{settings.clients} 个并发客户端 × {settings.signins} 次，{think}；gunicorn 2 个 "
              f"{settings.worker_class} worker" + (f"×{settings.threads} 线程" if settings.worker_class == "gthread" else ""))
    hello = [phases[name].ms(99) for name in ("hello_before", "hello_after")]
    known = [value for value in hello if value is not None]
    return [
        result(f"{prefix}.signin.p99_ms", p99, "ms", TARGET_SIGNIN_P99_MS,
               not problems and p99 is not None and p99 < TARGET_SIGNIN_P99_MS,
               note=f"POST /owner/sign-in/：p50 {signin.ms(50)} ms，p90 {signin.ms(90)} ms，最大 {signin.ms(100)} ms；"
                    f"{rps:.1f} 次/秒；{params}；限流未放宽：每个请求用各自的业主号码和回环源地址，"
                    "按号码（1/分钟、5/小时）和按 IP（20/小时）的计数都停在 1"
                    + ("；问题：" + "；".join(problems) if problems else "")),
        result(f"{prefix}.signin.redirects", ok, "个", None, None if not problems else False,
               note=f"302 跳转到验证码页 {ok} 个，其他状态 "
                    + ("、".join(f"{status}×{count}" for status, count in sorted(others.items())) or "0 个")
                    + f"；核对：登录验证码记录 {verified['codes']} 条（应为 {settings.http_requests} 条，"
                      f"含每个客户端 1 次预热），号码 {verified['mobiles']} 个，短信记录 {verified['sms']} 条，"
                      f"来源 IP {verified['ips']} 个"),
        result(f"{prefix}.signin.baseline.hello_p99_ms", min(known) if known else None, "ms",
               note=f"基线：同样的客户端并发 POST hello 视图（同一中间件，含 CSRF 校验）；"
                    f"前 {hello[0]} ms / 后 {hello[1]} ms，取较低者"),
    ]


def inprocess_entries(prefix, measured):
    baseline = measured["baseline"]
    out = [
        result(f"{prefix}.baseline.select1_ms", baseline["select1_ms"], "ms", note="基线：进程内 SELECT 1"),
        result(f"{prefix}.baseline.hello_ms", baseline["hello_ms"], "ms",
               note="基线：进程内测试客户端 GET hello 视图（同一中间件，业主已登录的会话）"),
    ]
    sign_in = measured.get("sign_in") or {}
    if "error" in sign_in:
        out.append(result(f"{prefix}.signin.inprocess_ms", None, "ms", note=f"参考：出错：{sign_in['error']}"))
    elif sign_in:
        wrong = sum(1 for status in sign_in["statuses"] if status != 302)
        out.append(result(
            f"{prefix}.signin.inprocess_ms", sign_in["median_ms"], "ms",
            note=f"参考：进程内 POST /owner/sign-in/ 中位数（每次不同号码、不同 REMOTE_ADDR），"
                 f"{sign_in['queries']} 次查询，最慢 {sign_in['max_ms']} ms"
                 + (f"；非 302 响应 {wrong} 个" if wrong else "")))
    return out


# --- Databases and Redis -------------------------------------------------------------------------


def django_env(settings, database_url, data_dir, secret):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DATABASE_URL=database_url,
        REDIS_URL=settings.redis_url,
        CACHE_KEY_PREFIX=CACHE_KEY_PREFIX,
        SECRET_KEY=secret,
        ID_HASH_KEY="bench-owners-id-hash-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        ANJU_DATA_DIR=str(data_dir),
        PYTHONPATH=str(REPO),
        LOG_LEVEL="WARNING",
        SMS_BACKEND="notifications.sms.DatabaseBackend",  # the codes are read back from SmsRecord
    )
    env.pop("ANJU_DEMO_CASES", None)  # the case count is passed to the seed task itself
    return env


def tasks(env, *args, timeout=1800):
    """Run bench/owners_tasks.py and return its JSON answer."""
    completed, _seconds = run_python([BENCH_DIR / "owners_tasks.py", *map(str, args)], env, timeout=timeout)
    checked(completed, f"owners_tasks {args[0]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def flush_redis(url):
    """Empty the benchmark's Redis database, after checking that it is the benchmark's own."""
    import redis

    if redis_db(url) == 0:
        raise ValueError("refusing to flush Redis database 0")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        sample = []
        for key in client.scan_iter(count=500):
            sample.append(key)
            if len(sample) >= 2000:
                break
        foreign = foreign_keys(sample)
        if foreign:
            raise RuntimeError(f"Redis database {redis_db(url)} holds keys that are not this benchmark's "
                               f"(e.g. {foreign[0][:60]!r}); set BENCH_OWNERS_REDIS_URL to an unused database")
        client.flushdb()
    finally:
        client.close()


def build_database(url, settings, data_dir, secret):
    """Migrate and seed the fresh database at ``url``; its environment and timings."""
    env = django_env(settings, url, data_dir, secret)
    info = {}
    started = time.perf_counter()
    checked(manage(["migrate", "--noinput", "-v", "0"], env, timeout=1800)[0], "migrate")
    info["migrate_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    checked(manage(["seed_demo"], env, timeout=1800)[0], "seed_demo")
    info["seed_demo_seconds"] = round(time.perf_counter() - started, 1)
    seeded = tasks(env, "seed", settings.cases)
    info["cases_seconds"] = seeded["seconds"]
    return env, info


# --- HTTP sign-in ---------------------------------------------------------------------------------


class OwnerClient(HttpClient):
    """An owner's phone (bench_cases.HttpClient: its own session and CSRF cookies,
    ``X-Forwarded-Proto: https``, a same-origin Referer) whose requests leave from a loopback
    address chosen before each one."""

    def bind(self, address):
        from requests.adapters import HTTPAdapter

        class SourceAddressAdapter(HTTPAdapter):
            def init_poolmanager(self, *args, **kwargs):
                kwargs["source_address"] = (address, 0)
                super().init_poolmanager(*args, **kwargs)

        old = self.session.adapters.get("http://")
        self.session.mount("http://", SourceAddressAdapter(max_retries=0))
        if old is not None:
            old.close()


def http_signin(settings, env, setup, log_path):
    """hello ×N, sign-in ×N, hello ×N per client, all clients at once in each phase."""
    import bench_pages

    server = bench_pages.Gunicorn(
        bench_pages.Settings(worker_class=settings.worker_class, threads=settings.threads), env, log_path)
    try:
        server.wait_ready(setup["hello"])
        mobiles = setup["http_mobiles"]
        clients = []
        for client_no in range(settings.clients):
            client = OwnerClient(server.base)
            client.bind(source_address(SIGNIN_NET, client_no, 0))
            page = client.request("GET", setup["sign_in"])
            if page.status_code != 200 or not client.csrf:
                raise RuntimeError(f"sign-in page answered {page.status_code} (CSRF cookie: {bool(client.csrf)})")
            warm = client.request("POST", setup["sign_in"], {
                "mobile": signin_mobile(mobiles, settings, client_no, 0), "next": "",
                "csrfmiddlewaretoken": client.csrf})
            if signin_problems([warm.status_code], [warm.headers.get("Location", "")]):
                raise RuntimeError(f"warm-up sign-in request answered {warm.status_code}: "
                                   f"{warm.headers.get('Location', '')}")
            clients.append(client)
        phases = {"hello_before": Phase(), "signin": Phase(), "hello_after": Phase()}
        lock = threading.Lock()
        barrier = threading.Barrier(settings.clients)
        errors = []

        def work(client_no, client):
            rng = random.Random(f"bench-owners-client-{client_no}")
            try:
                for name, phase in phases.items():
                    barrier.wait()
                    started = time.perf_counter()
                    if settings.think_ms[1]:
                        time.sleep(rng.uniform(0, settings.think_ms[1]) / 1000)
                    for n in range(1, settings.signins + 1):
                        if name == "signin":
                            client.bind(source_address(SIGNIN_NET, client_no, n))
                            path = setup["sign_in"]
                            data = {"mobile": signin_mobile(mobiles, settings, client_no, n), "next": ""}
                        else:
                            client.bind(source_address(HELLO_NET, client_no, n))
                            path, data = setup["hello"], {}
                        data["csrfmiddlewaretoken"] = client.csrf
                        began = time.perf_counter()
                        response = client.request("POST", path, data)
                        spent = time.perf_counter() - began
                        with lock:
                            phase.seconds.append(spent)
                            phase.statuses.append(response.status_code)
                            phase.locations.append(response.headers.get("Location", ""))
                        if settings.think_ms[1]:
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


# --- The benchmark -----------------------------------------------------------------------------


def run():
    settings = settings_from_env()
    results = []
    for database in settings.databases:
        results.extend(bench_database(database, settings))
    return results


def bench_database(database, settings):
    label = LABELS[database]
    prefix = f"owners.{database}"
    data_dir = fresh_dir(WORK / f"owners-{database}")
    secret = secrets.token_urlsafe(50)
    started = time.perf_counter()
    redis_ours = postgres_created = False
    try:
        flush_redis(settings.redis_url)
        redis_ours = True  # only now: a database holding someone else's keys is never flushed
        if database == "sqlite":
            url = f"sqlite:///{data_dir / 'anju.sqlite3'}"
        else:
            url = settings.postgres_url
            create_postgres(url)  # refuses names not starting with anju_bench
            postgres_created = True
        env, info = build_database(url, settings, data_dir, secret)
        setup = tasks(env, "setup", settings.events, settings.photos, settings.http_requests, settings.requests + 2)
        setup_path = data_dir / "setup.json"
        setup_path.write_text(json.dumps(setup, ensure_ascii=False), encoding="utf-8")
        measured = tasks(env, "measure", settings.requests, setup_path)
        flush_redis(settings.redis_url)  # the HTTP run starts with no counter or session left
        phases = http_signin(settings, env, setup, data_dir / "gunicorn.log")
        verified = tasks(env, "codes", setup_path)
    except Exception as error:
        traceback.print_exc()
        return [result(f"{prefix}.error", None, "", None, False,
                       note=f"{label}：出错：{type(error).__name__}: {str(error)[:400]}")]
    finally:
        if redis_ours:
            try:
                flush_redis(settings.redis_url)
            except Exception:
                traceback.print_exc()
        if postgres_created and not settings.keep:
            try:
                drop_postgres(settings.postgres_url)
            except Exception:
                traceback.print_exc()
        if not settings.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    totals = setup["totals"]
    out = [result(
        f"{prefix}.setup.seconds", round(time.perf_counter() - started, 1), "s",
        note=f"参考：{label} 这一轮的总用时（建库、造数、测量）；全新数据库 migrate {info['migrate_seconds']} s，"
             f"seed_demo {info['seed_demo_seconds']} s，演示工单 {settings.cases:,} 张 {info['cases_seconds']} s；"
             f"库中工单 {totals['cases']:,} 张、"
             f"记录 {totals['events']:,} 条、房号 {totals['units']:,} 个、业主 {totals['owners']:,} 个；"
             f"测量的工单在房号 {setup['unit']}（该房号共 {setup['unit_cases']} 张工单，"
             f"登录业主名下 {setup['owner_cases']} 张）")]
    out += inprocess_entries(prefix, measured)
    out += page_entries(prefix, measured, setup)
    out += signin_entries(prefix, settings, phases, verified)
    return out
