"""Exactly once under real concurrency: threads with their own database connections send the
same key, and deliver the same messages, at the same moment. PostgreSQL only; the top conftest
deselects these on SQLite."""

import threading

import pytest
from django.core import mail
from django.db import connections, transaction

from notifications import services
from notifications.models import Message, SmsRecord, Status
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONTEXT = {"subject": "工单即将超时", "body": "BX20261123-0007"}


def race(workers):
    """Run every worker on its own thread and connection; return results (or errors) in order."""
    results = [None] * len(workers)

    def run(index, work):
        try:
            results[index] = work()
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, work)) for index, work in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def meet_before(monkeypatch, target, name, parties):
    """Make ``parties`` threads meet at a barrier before calling ``target.name``."""
    barrier = threading.Barrier(parties, timeout=30)
    original = getattr(target, name)

    def wrapped(*args, **kwargs):
        barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapped)


def test_two_concurrent_sends_of_one_key_write_and_deliver_once(at_noon, monkeypatch):
    user = factories.UserFactory(username="zhao", email="zhao@example.com")
    factories.StaffProfileFactory(user=user, mobile="13900000009")
    # Both have read the key's rows (none yet) before either writes: a real race on the insert.
    meet_before(monkeypatch, services, "_build", 2)

    def work():
        with transaction.atomic():
            rows = services.send("case:812:resolution:remind", [user, "13800138000"], "generic", CONTEXT,
                                 channels=["admin", "email", "sms"])
        return [row.pk for row in rows]

    first, second = race([work, work])
    assert isinstance(first, list) and first == second, (first, second)
    assert Message.objects.count() == 4
    # Both callers scheduled delivery after commit; the claim let only one of them send.
    assert Message.objects.filter(status=Status.SENT).count() == 4
    assert len(mail.outbox) == 1
    assert SmsRecord.objects.count() == 2


def test_two_workers_delivering_the_same_messages_send_each_once(at_noon, monkeypatch):
    for n in range(5):
        services.send(f"k:{n}", f"1380013800{n}", "generic", CONTEXT)
    assert SmsRecord.objects.count() == 5  # delivered at commit (autocommit here)
    Message.objects.update(status=Status.PENDING, attempts=0, not_before=at_noon)
    SmsRecord.objects.all().delete()
    # Both have read the five pending rows before either claims one.
    meet_before(monkeypatch, services, "_deliver_one", 2)

    results = race([services.deliver_pending, services.deliver_pending])
    assert all(isinstance(result, dict) for result in results), results
    assert sorted(SmsRecord.objects.values_list("mobile", flat=True)) == [f"1380013800{n}" for n in range(5)]
    assert sum(result.get("sent", 0) for result in results) == 5
    assert sum(result.get("busy", 0) for result in results) == 5
