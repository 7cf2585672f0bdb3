"""Non-urgent SMS wait for the end of quiet hours (21:00–08:00 Asia/Shanghai by default)."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command

from notifications import services
from notifications.models import Message, SmsRecord, Status

from .conftest import SHANGHAI

pytestmark = pytest.mark.django_db

CONTEXT = {"subject": "回访提醒", "body": "请回访 3 幢 1502 业主。"}


def at(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("written", "released"),
    [
        (at(23, 21, 0), at(24, 8)),  # the window opens
        (at(23, 22, 30), at(24, 8)),  # evening: tomorrow morning
        (at(24, 2, 15), at(24, 8)),  # after midnight: this morning
        (at(24, 7, 59), at(24, 8)),
    ],
)
def test_sms_written_in_quiet_hours_waits_for_their_end(
    time_machine, written, released, staff, django_capture_on_commit_callbacks
):
    time_machine.move_to(written, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.send("k:quiet", ["13800138000", staff], "generic", CONTEXT, channels=["admin", "email", "sms"])
    by_channel = {(m.recipient, m.channel): m for m in Message.objects.filter(pk__in=[r.pk for r in rows])}
    sms = by_channel[("13800138000", "sms")]
    assert sms.status == Status.PENDING and sms.not_before == released
    assert by_channel[(f"user:{staff.pk}", "sms")].not_before == released
    # Email and the inbox are not held.
    assert by_channel[(f"user:{staff.pk}", "email")].status == Status.SENT
    assert by_channel[(f"user:{staff.pk}", "admin")].status == Status.SENT
    assert len(mail.outbox) == 1 and SmsRecord.objects.count() == 0

    time_machine.move_to(released - datetime.timedelta(seconds=1), tick=False)
    assert services.deliver_pending() == {}
    assert SmsRecord.objects.count() == 0

    time_machine.move_to(released, tick=False)
    assert services.deliver_pending() == {"sent": 2}
    assert sorted(SmsRecord.objects.values_list("mobile", flat=True)) == ["13800138000", "13900000001"]
    assert services.deliver_pending() == {}  # exactly once


@pytest.mark.parametrize("written", [at(23, 8, 0), at(23, 12, 0), at(23, 20, 59)])
def test_sms_outside_quiet_hours_goes_at_once(time_machine, written, django_capture_on_commit_callbacks):
    time_machine.move_to(written, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        (sms,) = services.send("k:day", "13800138000", "generic", CONTEXT)
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.sent_at == written
    assert SmsRecord.objects.count() == 1


def test_urgent_sms_ignores_quiet_hours(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(at(23, 23, 40), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        (sms,) = services.send("k:urgent", "13800138000", "generic", {"subject": "停水抢修"}, urgent=True)
    sms.refresh_from_db()
    assert sms.status == Status.SENT and SmsRecord.objects.count() == 1


def test_a_retry_that_falls_into_quiet_hours_waits_too(time_machine, flaky_sms, configure,
                                                        django_capture_on_commit_callbacks):
    configure(RETRY_DELAY=600)
    flaky_sms.failures = 1
    time_machine.move_to(at(23, 20, 55), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        (sms,) = services.send("k:retry-quiet", "13800138000", "generic", CONTEXT)
    sms.refresh_from_db()
    assert sms.attempts == 1 and sms.not_before == at(23, 21, 5)

    time_machine.move_to(at(23, 21, 5), tick=False)
    assert services.deliver_pending() == {"deferred": 1}
    sms.refresh_from_db()
    assert sms.not_before == at(24, 8) and sms.attempts == 1

    time_machine.move_to(at(24, 8), tick=False)
    call_command("send_notifications")
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.attempts == 2


def test_quiet_hours_can_be_turned_off_or_moved(time_machine, configure):
    time_machine.move_to(at(23, 22, 0), tick=False)
    configure(QUIET_HOURS=None)
    assert services.quiet_until(at(23, 22, 0)) is None
    configure(QUIET_HOURS=("12:00", "14:00"))  # a window within one day
    assert services.quiet_until(at(23, 22, 0)) is None
    assert services.quiet_until(at(23, 13, 0)) == at(23, 14)
    assert services.quiet_until(at(23, 14, 0)) is None
    (sms,) = services.send("k:lunch", "13800138000", "generic", CONTEXT)
    assert sms.not_before == at(23, 22, 0)
    assert Message.objects.get().status == Status.PENDING
