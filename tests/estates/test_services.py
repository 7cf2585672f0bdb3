"""estates.services.record_handover: one way to hand a unit over — locked, checked, one history
row with user and reason, the signal after commit, and never twice."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from estates.models import HandoverStatus, Unit
from estates.services import record_handover
from plugins.signals import unit_handed_over
from tests import factories as f

DAY = datetime.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def received():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    unit_handed_over.connect(receiver, dispatch_uid="test_services.receiver")
    yield calls
    unit_handed_over.disconnect(dispatch_uid="test_services.receiver")


@pytest.fixture
def unit(db):
    return f.UnitFactory()


@pytest.fixture
def staff(db):
    return f.UserFactory(username="handover_staff", is_superuser=True)


def test_record_handover_writes_one_history_row_with_user_and_reason(unit, staff, django_capture_on_commit_callbacks):
    before = unit.history.count()
    with django_capture_on_commit_callbacks(execute=True):
        result = record_handover(unit, DAY, staff, "集中交付")
    unit.refresh_from_db()
    assert (unit.handover_status, unit.handover_date) == (HandoverStatus.HANDED_OVER, DAY)
    assert (result.pk, result.handover_status) == (unit.pk, HandoverStatus.HANDED_OVER)
    assert unit.history.count() == before + 1
    row = unit.history.first()
    assert (row.history_user, row.history_change_reason, row.history_type) == (staff, "集中交付", "~")
    assert row.handover_status == HandoverStatus.HANDED_OVER


def test_a_second_handover_is_refused_in_chinese(unit, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record_handover(unit, DAY, staff, "集中交付")
    count = unit.history.count()
    with pytest.raises(ValidationError) as excinfo:
        record_handover(unit, DAY + datetime.timedelta(days=1), staff, "再次交付")
    assert excinfo.value.messages == [f"房号 {unit.label} 已经交付，不能重复交付。"]
    unit.refresh_from_db()
    assert unit.handover_date == DAY
    assert unit.history.count() == count


def test_a_stale_unit_object_cannot_hand_over_twice(unit, staff):
    """The check reads the locked row, not the caller's copy."""
    stale = Unit.objects.get(pk=unit.pk)
    record_handover(unit, DAY, staff, "集中交付")
    assert stale.handover_status == HandoverStatus.PENDING
    with pytest.raises(ValidationError):
        record_handover(stale, DAY, staff, "集中交付")


@pytest.mark.parametrize("reason", ["", None])
def test_a_reason_is_required(unit, staff, reason):
    with pytest.raises(ValidationError) as excinfo:
        record_handover(unit, DAY, staff, reason)
    assert excinfo.value.messages == ["请填写原因。"]
    unit.refresh_from_db()
    assert unit.handover_status == HandoverStatus.PENDING
    assert unit.history.count() == 1


def test_the_signal_is_sent_once_after_commit(unit, staff, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_handover(unit, DAY, staff, "集中交付")
    assert received == []  # not before the transaction commits
    for callback in callbacks:
        callback()
    assert len(received) == 1
    sent = received[0]
    assert (sent["unit"].pk, sent["handover_date"], sent["user"], sent["reason"]) == (unit.pk, DAY, staff, "集中交付")


def test_a_refused_handover_sends_nothing(unit, staff, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record_handover(unit, DAY, staff, "集中交付")
    received.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValidationError):
            record_handover(unit, DAY, staff, "再次交付")
    assert callbacks == [] and received == []


def test_the_system_hands_over_without_a_user(unit):
    record_handover(unit, DAY, None, "系统：批量交付导入")
    row = unit.history.first()
    assert row.history_user is None
    assert row.history_change_reason == "系统：批量交付导入"


def test_a_scheduled_unit_can_be_handed_over(db, staff):
    unit = f.UnitFactory(handover_status=HandoverStatus.SCHEDULED)
    record_handover(unit, DAY, staff, "预约交付")
    unit.refresh_from_db()
    assert unit.handover_status == HandoverStatus.HANDED_OVER


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_handovers_of_one_unit_let_exactly_one_through():
    unit = f.UnitFactory()
    staff = f.UserFactory(username="concurrent", is_superuser=True)
    barrier = threading.Barrier(2)
    outcomes = []

    def hand_over(reason):
        try:
            barrier.wait(timeout=10)
            record_handover(unit, DAY, staff, reason)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=hand_over, args=(f"交付{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["ok", "refused"]
    assert unit.history.filter(handover_status=HandoverStatus.HANDED_OVER).count() == 1


def test_staff_without_the_change_permission_are_refused(unit, make_staff):
    from django.core.exceptions import PermissionDenied

    viewer = make_staff("estates.view_unit", projects=[unit.project])
    with pytest.raises(PermissionDenied):
        record_handover(unit, DAY, viewer, "集中交付")
    unit.refresh_from_db()
    assert unit.handover_status == HandoverStatus.PENDING


def test_staff_of_another_project_are_refused(unit, make_staff):
    from django.core.exceptions import PermissionDenied

    other = make_staff("estates.change_unit", projects=[f.ProjectFactory()])
    with pytest.raises(PermissionDenied):
        record_handover(unit, DAY, other, "集中交付")
    mine = make_staff("estates.change_unit", projects=[unit.project])
    assert record_handover(unit, DAY, mine, "集中交付").handover_status == HandoverStatus.HANDED_OVER
