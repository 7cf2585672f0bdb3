"""home.opendays services: register, cancel, check_in — every refusal and the audit trail."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from wagtail.models import ModelLogEntry, PageViewRestriction

from home import opendays as services
from home.models import OpenDayRegistration
from home.opendays import Refusal
from tests.factories import ProjectFactory
from tests.home.test_opendays_fixtures import (  # noqa: F401 (fixtures)
    add_slot_page,
    clear_rate_limits,
    in_days,
    make_registration,
    next_mobile,
    open_day,
    portal,
    project,
    slot,
)

Status = OpenDayRegistration.Status


def refusal(excinfo):
    error = excinfo.value
    return error.code, " ".join(error.messages)


def logs(registration, action):
    return ModelLogEntry.objects.filter(object_id=str(registration.pk), action=action)


# --- register ------------------------------------------------------------------------------


def test_register_normalises_the_mobile_and_writes_an_audit_row(slot):
    registration = services.register(slot, " 王五 ", "+86 138-0013-8000", " 3幢1502 ", 2, " 带一名儿童 ")
    registration.refresh_from_db()
    assert registration.mobile == "13800138000"
    assert (registration.name, registration.unit_or_contract, registration.remark) == ("王五", "3幢1502", "带一名儿童")
    assert registration.status == Status.REGISTERED
    assert len(registration.code) == 8 and set(registration.code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    entry = logs(registration, services.ACTION_REGISTER).get()
    assert entry.user is None and entry.data["actor"] == "owner"


@pytest.mark.parametrize("mobile", ["12345", "", "138001380001", "abc"])
def test_register_refuses_a_wrong_mobile(slot, mobile):
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, mobile=mobile)
    assert refusal(excinfo)[0] == "invalid_mobile"
    assert "手机号" in refusal(excinfo)[1]
    assert not OpenDayRegistration.objects.exists()


def test_register_refuses_a_full_slot(portal, project):
    slot = add_slot_page(portal, project, capacity=2, max_party=2)
    make_registration(slot, party_size=2)
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot)
    code, message = refusal(excinfo)
    assert code == Refusal.SLOT_FULL and "名额已满" in message
    assert OpenDayRegistration.objects.count() == 1


def test_register_refuses_more_people_than_seats_left(portal, project):
    slot = add_slot_page(portal, project, capacity=5, max_party=3)
    make_registration(slot, party_size=3)
    make_registration(slot, party_size=1)
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, party_size=2)
    code, message = refusal(excinfo)
    assert code == Refusal.NOT_ENOUGH_SEATS and "仅剩 1 个名额" in message
    make_registration(slot, party_size=1)  # the last seat is still there
    assert services.seats_taken(slot) == 5


def test_register_refuses_a_party_over_the_slot_limit(slot):
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, party_size=4)
    code, message = refusal(excinfo)
    assert code == Refusal.PARTY_TOO_LARGE and "最多 3 人" in message


@pytest.mark.parametrize("party_size", [0, -1, "abc", None])
def test_register_refuses_an_empty_party(slot, party_size):
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, party_size=party_size)
    assert refusal(excinfo)[0] == Refusal.PARTY_TOO_SMALL


@pytest.mark.parametrize("name, unit", [("", "3幢1502"), ("  ", "3幢1502"), ("张三", "")])
def test_register_requires_name_and_unit(slot, name, unit):
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, name=name, unit=unit)
    assert refusal(excinfo)[0] == Refusal.REQUIRED


def test_register_refuses_a_slot_in_the_past(portal, project):
    slot = add_slot_page(portal, project, days=-1)
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot)
    code, message = refusal(excinfo)
    assert code == Refusal.SLOT_STARTED and "已开始或已结束" in message


def test_register_refuses_once_the_slot_has_started(slot):
    starts = services.slot_starts_at(slot)
    with time_machine.travel(starts - datetime.timedelta(minutes=1), tick=False):
        make_registration(slot)
    with time_machine.travel(starts, tick=False):
        with pytest.raises(ValidationError) as excinfo:
            make_registration(slot)
    assert refusal(excinfo)[0] == Refusal.SLOT_STARTED


def test_register_refuses_an_unpublished_open_day(open_day, slot):
    open_day.unpublish()
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot)
    code, message = refusal(excinfo)
    assert code == Refusal.NOT_PUBLISHED and "未发布" in message


def test_register_refuses_an_open_day_behind_a_view_restriction(open_day, slot):
    PageViewRestriction.objects.create(page=open_day, restriction_type="password", password="secret")
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot)
    assert refusal(excinfo)[0] == Refusal.NOT_PUBLISHED


def test_register_refuses_a_second_registration_of_the_same_mobile(slot):
    make_registration(slot, mobile="13800138000")
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, mobile="138 0013 8000")  # same number, typed differently
    code, message = refusal(excinfo)
    assert code == Refusal.DUPLICATE_MOBILE and "已报名本场次" in message
    assert OpenDayRegistration.objects.count() == 1


def test_the_same_mobile_may_register_for_another_slot_and_again_after_cancelling(portal, project, slot):
    first = make_registration(slot, mobile="13800138000")
    other_slot = add_slot_page(portal, project, title="另一场")
    make_registration(other_slot, mobile="13800138000")
    services.cancel(first.code, "13800138000")
    again = make_registration(slot, mobile="13800138000")
    assert again.code != first.code
    assert OpenDayRegistration.objects.filter(slot=slot).count() == 2  # the cancelled one is kept


def test_the_database_constraint_backs_up_the_duplicate_check(slot, monkeypatch):
    """If the pre-check ever misses (it runs under the slot lock), the partial unique
    constraint still refuses the row and the service turns the IntegrityError into the same
    Chinese message."""
    make_registration(slot, mobile="13800138000")
    real = services._holds_registration
    calls = []

    def first_call_misses(slot, mobile):
        calls.append(mobile)
        return False if len(calls) == 1 else real(slot, mobile)

    monkeypatch.setattr(services, "_holds_registration", first_call_misses)
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, mobile="13800138000")
    assert refusal(excinfo)[0] == Refusal.DUPLICATE_MOBILE
    assert len(calls) == 2
    assert OpenDayRegistration.objects.count() == 1


def test_a_code_collision_gets_a_fresh_code(slot, monkeypatch):
    existing = make_registration(slot)
    code_field = OpenDayRegistration._meta.get_field("code")
    monkeypatch.setattr(code_field, "_get_default", lambda: existing.code)
    monkeypatch.setattr(services, "new_registration_code", lambda: "NEWC0DE2")
    registration = make_registration(slot)
    assert registration.code == "NEWC0DE2"
    assert OpenDayRegistration.objects.count() == 2


def test_cancelled_registrations_free_their_seats(portal, project):
    slot = add_slot_page(portal, project, capacity=2, max_party=2)
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile, party_size=2)
    services.cancel(registration.code, mobile)
    make_registration(slot, party_size=2)
    assert services.seats_taken(slot) == 2


def test_register_refuses_fields_over_their_maximum_length(slot):
    with pytest.raises(ValidationError) as excinfo:
        make_registration(slot, name="张" * 51, remark="长" * 10_000)
    assert set(excinfo.value.error_dict) == {"name", "remark"}
    assert not OpenDayRegistration.objects.exists()


def test_register_stores_emoji_and_sql_looking_text_verbatim(slot):
    remark = "'); DROP TABLE home_opendayregistration; -- 🏠👨‍👩‍👧"
    registration = make_registration(slot, name="王🏠", remark=remark)
    registration.refresh_from_db()
    assert (registration.name, registration.remark) == ("王🏠", remark)


# --- cancel --------------------------------------------------------------------------------


def test_cancel_needs_the_matching_code_and_mobile(slot):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    for code, typed in [(registration.code, "13912345678"), ("ZZZZZZZZ", mobile), (registration.code, "bad")]:
        with pytest.raises(ValidationError) as excinfo:
            services.cancel(code, typed)
        assert refusal(excinfo) == (Refusal.NOT_FOUND, "报名码与手机号不匹配，请核对后重试。")
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED


def test_cancel_keeps_the_row_and_logs_it_and_a_second_cancel_says_so(slot):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    cancelled, changed = services.cancel(registration.code.lower(), f"+86 {mobile}")
    assert changed and cancelled.pk == registration.pk
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED and registration.cancelled_at is not None
    entry = logs(registration, services.ACTION_CANCEL).get()
    assert entry.user is None and entry.data["actor"] == "owner"

    again, changed = services.cancel(registration.code, mobile)
    assert not changed and again.status == Status.CANCELLED
    assert logs(registration, services.ACTION_CANCEL).count() == 1
    assert OpenDayRegistration.objects.filter(pk=registration.pk).exists()


def test_cancel_refuses_a_checked_in_registration(slot, admin_user):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    with time_machine.travel(services.slot_starts_at(slot), tick=False):
        services.check_in(registration, admin_user)
    with pytest.raises(ValidationError) as excinfo:
        services.cancel(registration.code, mobile)
    assert refusal(excinfo)[0] == Refusal.ALREADY_CHECKED_IN


def test_owners_cannot_cancel_once_the_slot_has_started_but_staff_can(slot, admin_user):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    with time_machine.travel(services.slot_starts_at(slot) + datetime.timedelta(minutes=5), tick=False):
        with pytest.raises(ValidationError) as excinfo:
            services.cancel(registration.code, mobile)
        code, message = refusal(excinfo)
        assert code == Refusal.SLOT_STARTED and "0571-8888 6666" in message
        _registration, changed = services.cancel(registration.code, mobile, user=admin_user, reason="业主来电")
    assert changed
    entry = logs(registration, services.ACTION_CANCEL).get()
    assert entry.user == admin_user and entry.data == {"actor": "staff", "reason": "业主来电", "party_size": 1}


def test_staff_cancel_is_permission_and_scope_checked(slot, project, make_staff):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    viewer = make_staff("home.view_opendayregistration", projects=[project])
    elsewhere = make_staff("home.change_opendayregistration", projects=[ProjectFactory(code="SH09")])
    for user in (viewer, elsewhere):
        with pytest.raises(PermissionDenied):
            services.cancel(registration.code, mobile, user=user, reason="test")
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED


# --- check_in ------------------------------------------------------------------------------


@pytest.fixture
def on_the_day(slot):
    with time_machine.travel(services.slot_starts_at(slot) - datetime.timedelta(minutes=20), tick=False):
        yield


def test_check_in_records_the_time_and_the_staff_member(slot, project, make_staff, on_the_day):
    clerk = make_staff("home.change_opendayregistration", projects=[project])
    registration = make_registration(slot, party_size=3)
    services.check_in(registration, clerk)
    registration.refresh_from_db()
    assert registration.status == Status.CHECKED_IN
    assert registration.checked_in_at == timezone.now()
    entry = logs(registration, services.ACTION_CHECK_IN).get()
    assert entry.user == clerk and entry.data == {"actor": "staff", "party_size": 3}


def test_check_in_is_refused_for_a_cancelled_registration(slot, admin_user, on_the_day):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    services.cancel(registration.code, mobile)
    with pytest.raises(ValidationError) as excinfo:
        services.check_in(registration, admin_user)
    code, message = refusal(excinfo)
    assert code == Refusal.CANCELLED and "已取消" in message
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED and registration.checked_in_at is None


def test_a_second_check_in_is_refused_with_the_first_time(slot, admin_user, on_the_day):
    registration = make_registration(slot)
    services.check_in(registration, admin_user)
    with pytest.raises(ValidationError) as excinfo:
        services.check_in(registration, admin_user)
    code, message = refusal(excinfo)
    assert code == Refusal.ALREADY_CHECKED_IN
    assert timezone.localtime().strftime("%H:%M") in message
    assert logs(registration, services.ACTION_CHECK_IN).count() == 1


def test_check_in_before_the_day_is_refused(slot, admin_user):
    registration = make_registration(slot)
    with pytest.raises(ValidationError) as excinfo:
        services.check_in(registration, admin_user)
    assert refusal(excinfo)[0] == Refusal.TOO_EARLY


def test_check_in_is_permission_and_scope_checked(slot, project, make_staff, on_the_day):
    registration = make_registration(slot)
    viewer = make_staff("home.view_opendayregistration", projects=[project])
    elsewhere = make_staff("home.change_opendayregistration", projects=[ProjectFactory(code="SH09")])
    for user in (viewer, elsewhere):
        with pytest.raises(PermissionDenied):
            services.check_in(registration, user)
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED
    assert not logs(registration, services.ACTION_CHECK_IN).exists()


def test_registration_dates_are_relative_to_shanghai(portal, project):
    """A slot at 09:30 Shanghai time starts at 01:30 UTC."""
    slot = add_slot_page(portal, project)
    starts = services.slot_starts_at(slot)
    assert starts.utcoffset() == datetime.timedelta(hours=8)
    assert starts.astimezone(datetime.timezone.utc).time() == datetime.time(1, 30)
    assert slot.date == in_days(7)
