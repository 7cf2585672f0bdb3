"""cases.W001 and the admin home's panel: a working calendar in use meets a year without
public-holiday data (ARCHITECTURE.md decision 8), and WorkingTime's fallback for that year.

The shipped data (chinesecalendar) ends with 2026; the shipped policies use the office calendar
(routine repairs' contact, repairs' call-back)."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError

from plugins.cases import checks
from plugins.cases.models import CaseClock, SLAPolicy, SLATarget, WorkCalendar, WorkCalendarDay
from tests.conftest import staff_with_perms

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
PANEL = "工作日历缺少节假日数据"


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def warnings():
    return checks.check_holiday_data()


def test_a_year_without_holiday_data_warns():
    with time_machine.travel(at(2027, 3, 10, 10, 0)):
        found = warnings()

    assert [w.id for w in found] == ["cases.W001"]
    assert "工作日历“工作日 8:30–17:30”缺少 2027 年的法定节假日数据" in found[0].msg
    assert "周一至周五" in found[0].msg
    assert "“客服工单 → 节假日与调休”中录入 2027 年" in found[0].hint


def test_manage_py_check_shows_the_warning():
    err = io.StringIO()
    with time_machine.travel(at(2027, 3, 10, 10, 0)):
        call_command("check", stdout=io.StringIO(), stderr=err)

    assert "cases.W001" in err.getvalue() and "2027" in err.getvalue()


def test_a_year_with_data_gives_no_warning():
    with time_machine.travel(at(2026, 6, 1, 10, 0)):
        assert warnings() == []


def test_in_december_next_year_is_checked_too():
    with time_machine.travel(at(2026, 11, 30, 23, 0)):  # still November in Shanghai
        assert warnings() == []
    with time_machine.travel(at(2026, 12, 1, 8, 0)):
        found = warnings()
    assert len(found) == 1 and "缺少 2027 年" in found[0].msg


def test_entering_the_years_holidays_ends_the_warning():
    WorkCalendarDay.objects.create(date=dt.date(2027, 1, 1), kind=WorkCalendarDay.Kind.HOLIDAY, name="元旦")

    with time_machine.travel(at(2027, 3, 10, 10, 0)):
        assert warnings() == []


def test_only_working_calendars_in_use_count(new_case):
    always = WorkCalendar.objects.get(code="always")
    office = WorkCalendar.objects.get(code="office")
    office_targets = SLATarget.objects.filter(calendar=office)
    policies = SLAPolicy.objects.filter(targets__in=office_targets)
    target_ids = list(office_targets.values_list("pk", flat=True))
    SLATarget.objects.filter(pk__in=target_ids).update(calendar=always)
    with time_machine.travel(at(2027, 3, 10, 10, 0)):
        assert warnings() == []  # 24×7 needs no holidays, and no policy uses the office calendar

        # A clock still running on it keeps it in use; a stopped one does not.
        clock = new_case().clocks.first()
        CaseClock.objects.filter(pk=clock.pk).update(calendar=office)
        assert len(warnings()) == 1
        CaseClock.objects.filter(pk=clock.pk).update(stopped_at=at(2027, 3, 10, 10, 0))
        assert warnings() == []

        # An active policy's target on it does; an inactive policy starts no clock.
        SLATarget.objects.filter(pk__in=target_ids).update(calendar=office)
        assert len(warnings()) == 1
        policies.update(active=False)
        assert warnings() == []


def test_no_database_no_warning(monkeypatch):
    def broken(today=None):
        raise OperationalError("no such table: cases_workcalendarday")

    monkeypatch.setattr(checks, "missing_holidays", broken)

    assert warnings() == []


# --- WorkingTime's fallback -------------------------------------------------------------------------


def test_a_year_without_data_counts_monday_to_friday():
    office = WorkCalendar.objects.get(code="office")
    known = office.working_time(around=dt.date(2026, 9, 1))
    unknown = office.working_time(around=dt.date(2027, 9, 1))

    assert not known.is_working_day(dt.date(2026, 10, 1))  # National Day 2026, from the data
    assert unknown.window(dt.date(2027, 10, 1)) == (at(2027, 10, 1, 8, 30), at(2027, 10, 1, 17, 30))  # a Friday
    assert not unknown.is_working_day(dt.date(2027, 10, 2))  # Saturday
    assert not unknown.is_working_day(dt.date(2027, 10, 3))  # Sunday
    # Three working days from Thursday 30 September 2027: Friday, Monday, Tuesday.
    assert unknown.add_days(at(2027, 9, 30, 15, 0), 3) == at(2027, 10, 5, 15, 0)

    # Once the year's holidays are entered, they count.
    WorkCalendarDay.objects.create(date=dt.date(2027, 10, 1), kind=WorkCalendarDay.Kind.HOLIDAY, name="国庆节")
    entered = office.working_time(around=dt.date(2027, 9, 1))
    assert entered.add_days(at(2027, 9, 30, 15, 0), 3) == at(2027, 10, 6, 15, 0)


# --- The admin home ---------------------------------------------------------------------------------


def home(client, user, when):
    with time_machine.travel(when):
        client.force_login(user)
        response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_home_shows_the_panel_to_case_staff(client, project):
    agent = staff_with_perms("cases.view_case", projects=[project])

    page = home(client, agent, at(2027, 3, 10, 10, 0))

    assert PANEL in page and "缺少 2027 年的法定节假日数据" in page
    assert "/admin/snippets/cases/workcalendarday/" not in page  # no link for those who cannot enter days


def test_the_panel_links_to_the_holiday_list_for_those_who_may_enter_days(client, admin_user):
    page = home(client, admin_user, at(2027, 3, 10, 10, 0))

    assert PANEL in page and "/admin/snippets/cases/workcalendarday/" in page


def test_no_panel_in_a_year_with_data_or_for_staff_without_cases(client, project):
    agent = staff_with_perms("cases.view_case", projects=[project])
    editor = staff_with_perms("wagtailcore.add_page")

    assert PANEL not in home(client, agent, at(2026, 6, 1, 10, 0))
    assert PANEL not in home(client, editor, at(2027, 3, 10, 10, 0))
