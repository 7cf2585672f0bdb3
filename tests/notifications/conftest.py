"""Fixtures for the outbox: the database SMS backend, a flaky one, and staff recipients."""

import datetime
import zoneinfo

import pytest

from tests import factories

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)


class FlakySmsBackend:
    """Refuses the first ``failures`` messages, then sends through the database backend."""

    failures = 0
    calls = 0

    def send(self, mobile, template_code, params):
        from notifications.sms import DatabaseBackend, SmsError

        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise SmsError("provider said: isv.BUSINESS_LIMIT_CONTROL")
        return DatabaseBackend().send(mobile, template_code, params)


@pytest.fixture(autouse=True)
def fresh_cache():
    """The inbox's unread counts are cached per user id; ids come back after a rollback."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def notification_settings(settings):
    """The shipped settings with the database SMS backend, whatever the environment says."""
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "SMS_BACKEND": "notifications.sms.DatabaseBackend",
        "QUIET_HOURS": ("21:00", "08:00"),
        "DELIVERY_TASK_BACKEND": "default",
    }
    return settings


@pytest.fixture
def configure(settings):
    """configure(KEY=value, …): change NOTIFICATIONS keys for one test."""

    def change(**values):
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **values}

    return change


@pytest.fixture
def flaky_sms(configure):
    FlakySmsBackend.failures = 0
    FlakySmsBackend.calls = 0
    configure(SMS_BACKEND="tests.notifications.conftest.FlakySmsBackend")
    return FlakySmsBackend


@pytest.fixture
def at_noon(time_machine):
    time_machine.move_to(NOON, tick=False)
    return NOON


@pytest.fixture
def staff(db):
    """A staff member with an email and a mobile on their profile."""
    user = factories.UserFactory(username="zhangwei", email="zhangwei@example.com", first_name="伟", last_name="张")
    factories.StaffProfileFactory(user=user, mobile="13900000001")
    return user
