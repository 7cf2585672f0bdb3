"""Rate limits on the open-day forms: per IP and per mobile, 429 with a Chinese page.

Run against the default cache of the test settings (local memory) and against a real Redis
server through Django's RedisCache, as production does. Time is frozen, so a rate window
cannot roll over in the middle of a test.
"""

import os
import uuid

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from home.models import OpenDayRegistration
from tests.home.test_opendays_fixtures import (  # noqa: F401 (fixtures)
    clear_rate_limits,
    make_registration,
    next_mobile,
    open_day,
    portal,
    project,
    registration_form,
    slot,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel("2026-11-30 10:00:00 +0800", tick=False):
        yield


@pytest.fixture(params=["locmem", "redis"])
def rate_cache(request):
    """The cache the limits count in: the test settings' local memory, or a real Redis server
    (a db of its own and a key prefix of its own; only those keys are deleted afterwards)."""
    if request.param == "locmem":
        yield "locmem"
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        # Not a skip: production counts in Redis, so this leg must run (.ci/run starts Redis).
        pytest.fail(f"no Redis server at {REDIS_URL}: start redis-server or set TEST_REDIS_URL")
    prefix = f"anju-openday-test-{uuid.uuid4().hex}"
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        with override_settings(CACHES=config):
            assert type(caches["default"]).__name__ == "RedisCache"
            yield client, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def redis_keys(rate_cache):
    if rate_cache == "locmem":
        return None
    client, prefix = rate_cache
    return list(client.scan_iter(match=f"{prefix}:*"))


def post(slot, ip, **overrides):
    return Client(REMOTE_ADDR=ip).post(reverse("openday_register", args=(slot.pk,)), registration_form(**overrides))


def assert_limited(response):
    assert response.status_code == 429
    assert "操作过于频繁" in response.content.decode()
    assert response["Retry-After"]


def test_registration_posts_are_limited_per_ip(slot, rate_cache):
    for _ in range(10):  # invalid forms count too: the limit guards the endpoint
        assert post(slot, "203.0.113.7", mobile="bad").status_code == 400
    assert_limited(post(slot, "203.0.113.7", mobile=next_mobile()))
    assert not OpenDayRegistration.objects.exists()
    # Another client is not affected, and GETs are never limited.
    assert post(slot, "203.0.113.8", mobile=next_mobile()).status_code == 302
    assert Client(REMOTE_ADDR="203.0.113.7").get(reverse("openday_register", args=(slot.pk,))).status_code == 200
    if rate_cache != "locmem":
        assert redis_keys(rate_cache), "the counters must live in Redis"
    # A minute later the window has moved on.
    with time_machine.travel("2026-11-30 10:02:00 +0800", tick=False):
        assert post(slot, "203.0.113.7", mobile=next_mobile()).status_code == 302


def test_registration_attempts_are_limited_per_mobile(slot, rate_cache):
    mobile = "13800138000"
    assert post(slot, "198.51.100.1", mobile=mobile).status_code == 302
    for n in range(2, 6):  # typed differently, from other addresses: still the same number
        assert post(slot, f"198.51.100.{n}", mobile="+86 138-0013-8000").status_code == 400
    assert_limited(post(slot, "198.51.100.99", mobile="138 0013 8000"))
    assert post(slot, "198.51.100.99", mobile=next_mobile()).status_code == 302
    assert OpenDayRegistration.objects.count() == 2


def test_cancel_attempts_are_limited_per_ip_and_per_mobile(slot, rate_cache):
    registration = make_registration(slot, mobile="13800138000")
    url = reverse("openday_cancel")
    guesser = Client(REMOTE_ADDR="192.0.2.10")
    for n in range(10):
        assert guesser.post(url, {"code": f"ZZZZZZ{n:02d}", "mobile": next_mobile()}).status_code == 400
    assert_limited(guesser.post(url, {"code": registration.code, "mobile": "13800138000"}))

    for n in range(5):  # one number, codes guessed from many addresses
        response = Client(REMOTE_ADDR=f"192.0.2.{20 + n}").post(url, {"code": f"YYYYYY{n:02d}", "mobile": "13800138000"})
        assert response.status_code == 400
    assert_limited(Client(REMOTE_ADDR="192.0.2.99").post(url, {"code": registration.code, "mobile": "13800138000"}))
    registration.refresh_from_db()
    assert registration.status == OpenDayRegistration.Status.REGISTERED


def test_confirmation_lookups_are_limited_per_ip(slot, rate_cache):
    registration = make_registration(slot)
    client = Client(REMOTE_ADDR="192.0.2.50")
    url = reverse("openday_done", args=(registration.code,))
    for _ in range(60):
        assert client.get(url).status_code == 200
    assert_limited(client.get(url))
