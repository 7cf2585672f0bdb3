"""Delivery from the outbox: failures are recorded and retried, each message goes once."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from notifications import services, tasks
from notifications.models import Message, SmsRecord, Status

pytestmark = pytest.mark.django_db

CONTEXT = {"subject": "工单已派给您", "body": "BX20261123-0007 卫生间漏水"}


def test_a_failed_delivery_is_recorded_then_retried(at_noon, time_machine, flaky_sms,
                                                    django_capture_on_commit_callbacks):
    flaky_sms.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        (sms,) = services.send("k:flaky", "13800138000", "generic", CONTEXT)
    sms.refresh_from_db()
    assert sms.status == Status.PENDING and sms.attempts == 1
    assert sms.last_error == "SmsError: provider said: isv.BUSINESS_LIMIT_CONTROL"
    assert sms.not_before == at_noon + datetime.timedelta(seconds=60)
    assert services.deliver_pending() == {}  # not due yet

    time_machine.move_to(at_noon + datetime.timedelta(seconds=60), tick=False)
    assert services.deliver_pending() == {"retry": 1}
    sms.refresh_from_db()
    assert sms.attempts == 2 and sms.not_before == at_noon + datetime.timedelta(seconds=180)  # doubled

    time_machine.move_to(at_noon + datetime.timedelta(seconds=180), tick=False)
    assert services.deliver_pending() == {"sent": 1}
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == (Status.SENT, 3, "")
    assert sms.sent_at == at_noon + datetime.timedelta(seconds=180)
    assert SmsRecord.objects.count() == 1
    assert services.deliver_pending() == {}


def test_out_of_attempts_is_failed_and_an_administrator_can_retry(at_noon, time_machine, flaky_sms, configure):
    configure(MAX_ATTEMPTS=2, RETRY_DELAY=1)
    flaky_sms.failures = 2
    (sms,) = services.send("k:dead", "13800138000", "generic", CONTEXT)
    assert services.deliver_pending() == {"retry": 1}
    time_machine.shift(datetime.timedelta(seconds=1))
    assert services.deliver_pending() == {"failed": 1}
    sms.refresh_from_db()
    assert sms.status == Status.FAILED and sms.attempts == 2 and "BUSINESS_LIMIT_CONTROL" in sms.last_error
    time_machine.shift(datetime.timedelta(hours=1))
    assert services.deliver_pending() == {}

    assert services.retry([sms.pk]) == 1
    assert services.deliver_pending() == {"sent": 1}
    sms.refresh_from_db()
    assert sms.status == Status.SENT and sms.attempts == 1


def test_a_failing_email_server_is_recorded_and_retried(
    at_noon, time_machine, settings, django_capture_on_commit_callbacks, staff
):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenEmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        (email,) = services.send("k:smtp", staff, "generic", CONTEXT, channels=["email"])
    email.refresh_from_db()
    assert email.status == Status.PENDING and email.attempts == 1
    assert email.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.deliver([email.pk]) == {}  # delivering it by id still waits for the retry time
    time_machine.shift(datetime.timedelta(seconds=60))
    assert services.deliver_pending() == {"sent": 1}
    assert [m.subject for m in mail.outbox] == [CONTEXT["subject"]]


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_message_another_worker_has_claimed_is_not_sent_again(at_noon):
    (sms,) = services.send("k:claim", "13800138000", "generic", CONTEXT)
    stale = Message.objects.get(pk=sms.pk)  # what a second worker read before the first claimed
    assert services.deliver([sms.pk]) == {"sent": 1}
    assert services._deliver_one(stale) == "busy"
    assert SmsRecord.objects.count() == 1


def test_a_worker_that_died_mid_send_leaves_the_message_to_be_tried_again(at_noon, time_machine, monkeypatch):
    (sms,) = services.send("k:crash", "13800138000", "generic", CONTEXT)

    def die(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("notifications.sms.DatabaseBackend.send", die)
    with pytest.raises(KeyboardInterrupt):
        services.deliver_pending()
    monkeypatch.undo()
    assert services.deliver_pending() == {}  # claimed: left alone for the lease
    time_machine.shift(services.CLAIM_LEASE)
    assert services.deliver_pending() == {"sent": 1}


def test_deliver_pending_takes_the_oldest_first_up_to_the_limit(at_noon, time_machine):
    for n in range(5):
        services.send(f"k:batch:{n}", f"1380013800{n}", "generic", CONTEXT)
        time_machine.shift(datetime.timedelta(seconds=1))
    assert services.deliver_pending(limit=3) == {"sent": 3}
    assert list(SmsRecord.objects.order_by("pk").values_list("mobile", flat=True)) == [
        "13800138000", "13800138001", "13800138002"
    ]
    call_command("send_notifications", "--limit", "10")
    assert SmsRecord.objects.count() == 5


def test_the_command_reports_what_it_did(at_noon, capsys):
    call_command("send_notifications")
    assert capsys.readouterr().out.strip() == "没有到期的通知"
    services.send("k:cmd", "13800138000", "generic", CONTEXT)
    call_command("send_notifications")
    assert capsys.readouterr().out.strip() == "sent 1"


def test_the_background_task_delivers_what_is_due(at_noon):
    services.send("k:task", "13800138000", "generic", CONTEXT)
    result = tasks.deliver_pending.enqueue(100)
    assert DBTaskResult.objects.filter(pk=result.id).exists()
    assert SmsRecord.objects.count() == 0  # the db_worker runs it
    assert tasks.deliver_pending.call(100) == {"sent": 1}
    assert SmsRecord.objects.count() == 1


def test_delivery_after_commit_can_go_to_the_worker(at_noon, configure, staff, django_capture_on_commit_callbacks):
    configure(DELIVERY_TASK_BACKEND="background")
    with django_capture_on_commit_callbacks(execute=True):
        (email,) = services.send("k:bg", staff, "generic", CONTEXT, channels=["email"])
    assert mail.outbox == []
    task = DBTaskResult.objects.get()
    assert task.task_path == "notifications.tasks.deliver_messages" and task.args_kwargs["args"] == [[email.pk]]
    assert tasks.deliver_messages.call([email.pk]) == {"sent": 1}
    assert len(mail.outbox) == 1


def test_a_channel_removed_from_settings_fails_its_messages(at_noon, configure):
    (sms,) = services.send("k:gone", "13800138000", "generic", CONTEXT)
    configure(CHANNELS={"admin": "notifications.channels.AdminChannel"})
    assert services.deliver_pending() == {"failed": 1}
    sms.refresh_from_db()
    assert sms.status == Status.FAILED and "sms" in sms.last_error


def test_the_command_refuses_a_bad_limit(at_noon):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_notifications", "--limit", "0")
