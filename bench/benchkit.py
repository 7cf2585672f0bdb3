"""Helpers shared by the benchmark modules: result entries, fresh databases, manage.py runs and
raw-insert baselines. Runs outside Django; Django work happens in subprocesses."""

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK = BENCH_DIR / "work"  # gitignored
PYTHON = sys.executable
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/anju_bench_import"


def result(name, value, unit, target=None, passed=None, note=""):
    """One result entry. ``target`` is an upper bound in ``unit`` (None: informational);
    ``passed`` is None for informational entries such as baselines."""
    entry = {"name": name, "value": value, "unit": unit, "target": target, "pass": passed}
    if note:
        entry["note"] = note
    return entry


def django_env(database_url, data_dir):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL=database_url,
        ANJU_DATA_DIR=str(data_dir),
        PYTHONPATH=str(REPO),
        LOG_LEVEL="WARNING",
    )
    return env


def run_python(args, env, timeout=None):
    """Run ``python *args`` in the repository; returns (CompletedProcess, seconds)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [PYTHON, *map(str, args)], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout,
    )
    return completed, time.perf_counter() - started


def manage(args, env, timeout=None):
    return run_python(["manage.py", *args], env, timeout)


def checked(completed, what):
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-15:]
        raise RuntimeError(f"{what} exited with {completed.returncode}:\n" + "\n".join(tail))
    return completed


def djtask(env, *args):
    """Run bench/djtasks.py (inside Django) and return its JSON answer."""
    completed, _seconds = run_python([BENCH_DIR / "djtasks.py", *args], env, timeout=600)
    checked(completed, f"djtasks {args[0]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def env_int(environ, name, default, minimum=1, maximum=None):
    """An integer setting of a benchmark (``1_000_000`` and ``1,000,000`` allowed), in range."""
    value = int(str(environ.get(name, default)).replace("_", "").replace(",", ""))
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be between {minimum} and {maximum}" if maximum is not None
                         else f"{name} must be at least {minimum}")
    return value


def think_range(environ, name, default="500-1500"):
    """"500-1500" → (500, 1500) milliseconds a client pauses after each request; "0" → (0, 0)."""
    low, _, high = environ.get(name, default).strip().partition("-")
    low, high = int(low), int(high or low)
    if low < 0 or high < low:
        raise ValueError(f"{name} must be MIN-MAX milliseconds, MIN <= MAX")
    return (low, high)


def redis_db(url):
    path = urlsplit(url).path.strip("/")
    return int(path) if path else 0


def fresh_dir(path):
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# --- PostgreSQL ----------------------------------------------------------------------------------


def _maintenance_url(url):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def _pg_connect(url):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True,
                           connect_timeout=5)


def _bench_name(name):
    if not name.startswith(("anju_bench", "bench_")):
        raise ValueError(f"refusing to recreate or drop {name!r}: benchmark databases start with anju_bench")


def create_postgres(url):
    """Drop (if left over) and create the database named in ``url``."""
    maintenance, name = _maintenance_url(url)
    _bench_name(name)
    with _pg_connect(maintenance) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url):
    maintenance, name = _maintenance_url(url)
    _bench_name(name)  # never a database the benchmarks did not make, whatever the URL says
    with _pg_connect(maintenance) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Raw-insert baselines ---------------------------------------------------------------------------
# The same number of rows as the import writes, straight through the driver in one transaction:
# what the database and the disk can do right now on this machine.

RAW_COLUMNS = "id, label, name, mobile, area, day, flag, created"


def raw_rows(count):
    created = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
    day = date(2025, 6, 28)
    return [
        (i + 1, f"{i % 500 + 1}-{i % 2 + 1}-{i % 25 + 1}{i % 4 + 1:02d}", "王晓燕",
         f"154{i:08d}", "89.12", day, i % 2 == 0, created)
        for i in range(count)
    ]


def raw_insert_sqlite(path, rows):
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute(
            "CREATE TABLE bench_raw (id integer primary key, label varchar(60), name varchar(50),"
            " mobile varchar(11), area decimal, day date, flag bool, created datetime)"
        )
        rows = [(*row[:5], row[5].isoformat(), row[6], row[7].isoformat()) for row in rows]
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO bench_raw ({RAW_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
        return seconds
    finally:
        conn.close()


def raw_insert_postgres(url, rows):
    conn = _pg_connect(url)
    try:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute(
            "CREATE TABLE bench_raw (id bigint primary key, label varchar(60), name varchar(50),"
            " mobile varchar(11), area numeric(8,2), day date, flag boolean,"
            " created timestamptz)"
        )
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO bench_raw ({RAW_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", rows
            )
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
        return seconds
    finally:
        conn.close()
