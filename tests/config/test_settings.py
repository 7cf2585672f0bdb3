"""Settings behave as documented: production refuses to start without its essentials and passes
`check --deploy`; REDIS_URL moves cache and sessions onto Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 20 + "-production-test-key-with-enough-entropy-0123456789",
    "ID_HASH_KEY": "id-key",
    "ALLOWED_HOSTS": "service.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
}


def run_manage(*args, env):
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_defaults_are_chinese_first_in_shanghai():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert "en" in dict(settings.LANGUAGES)
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.WAGTAIL_ENABLE_UPDATE_CHECK is False


def test_production_check_deploy_reports_no_issue():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "REDIS_URL", "ALLOWED_HOSTS", "ID_HASH_KEY"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_redis_url_puts_cache_and_sessions_on_redis():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "from django.core.cache import cache; cache.set('anju-settings-probe', 'ok', 5);"
        "print(json.dumps([s.CACHES['default']['BACKEND'], s.SESSION_ENGINE,"
        " cache.get('anju-settings-probe')]))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    backend, session_engine, value = __import__("json").loads(result.stdout)
    assert backend == "django.core.cache.backends.redis.RedisCache"
    assert session_engine == "django.contrib.sessions.backends.cache"
    assert value == "ok"  # a real round trip through the Redis server
