"""The registrations screen in the Wagtail admin: list, filters, search, export, check-in,
cancel on the owner's behalf, permissions and project scope, query counts."""

import csv
import datetime
import io
import re

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry

from home import opendays as services
from home.models import OpenDayRegistration
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
from tests.portal import add_project_page

Status = OpenDayRegistration.Status
NS = "wagtailsnippets_home_opendayregistration"
LIST_URL = "/admin/snippets/home/opendayregistration/"


def url(name, *args):
    return reverse(f"{NS}:{name}", args=args)


def html(response):
    return response.content.decode()


def assert_denied(response):
    """Wagtail answers PermissionDenied in the admin with a redirect to the dashboard."""
    assert response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")


def listed_codes(response):
    return {registration.code for registration in response.context["object_list"]}


@pytest.fixture
def other_slot(portal):
    project = ProjectFactory(code="SH09", name="浦江华庭")
    add_project_page(portal, project)
    return add_slot_page(portal, project, title="浦江华庭开放日", days=14)


@pytest.fixture
def on_the_day(slot):
    with time_machine.travel(services.slot_starts_at(slot) - datetime.timedelta(minutes=30), tick=False):
        yield


def test_the_list_shows_registrations_with_masked_mobiles(admin_client, slot):
    registration = make_registration(slot, mobile="13800138000", name="王小明", unit="3幢1502", party_size=2)
    response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    page = html(response)
    for text in ("开放日报名", "王小明", registration.code, "138****8000", "3幢1502", "已报名", "12月工地开放日", "场次", "报名时间"):
        assert text in page, text
    assert "13800138000" not in page
    # No add, edit or delete: registrations change only through the services.
    assert url("add") not in page and url("edit", registration.pk) not in page
    assert url("inspect", registration.pk) in page


def test_the_admin_offers_no_add_edit_or_delete_even_to_superusers(admin_client, slot):
    registration = make_registration(slot)
    for path in (url("add"), url("edit", registration.pk), url("delete", registration.pk)):
        assert_denied(admin_client.post(path, {"name": "改名"}))
    registration.refresh_from_db()
    assert registration.name == "张三"
    assert admin_client.get(url("inspect", registration.pk)).status_code == 200


def test_the_menu_lists_registrations_under_portal_content(admin_client):
    page = html(admin_client.get("/admin/"))
    props = re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', page, re.S).group(1)
    assert "\\u5f00\\u653e\\u65e5\\u62a5\\u540d" in props  # 开放日报名, \u-escaped in the JSON


def test_filters_by_project_open_day_slot_date_and_status(admin_client, slot, other_slot):
    here = make_registration(slot)
    there = make_registration(other_slot)
    cancelled_mobile = next_mobile()
    cancelled = make_registration(slot, mobile=cancelled_mobile)
    services.cancel(cancelled.code, cancelled_mobile)

    project_id = slot.page.project_id
    assert listed_codes(admin_client.get(LIST_URL, {"project": project_id})) == {here.code, cancelled.code}
    assert listed_codes(admin_client.get(LIST_URL, {"open_day": other_slot.page_id})) == {there.code}
    date = in_days(14).isoformat()
    assert listed_codes(admin_client.get(LIST_URL, {"slot_date_from": date, "slot_date_to": date})) == {there.code}
    assert listed_codes(admin_client.get(LIST_URL, {"status": "cancelled"})) == {cancelled.code}
    assert listed_codes(admin_client.get(LIST_URL, {"status": "registered", "project": project_id})) == {here.code}
    page = html(admin_client.get(LIST_URL))
    assert "浦江华庭开放日（" in page  # open-day choices carry their date


def test_search_by_code_name_mobile_tail_or_unit(admin_client, slot):
    target = make_registration(slot, mobile="13800138000", name="欧阳娜娜", unit="9幢0901")
    make_registration(slot, name="张三", unit="1幢0101")
    for query in (target.code.lower(), "欧阳", "8000", "9幢"):
        assert listed_codes(admin_client.get(LIST_URL, {"q": query})) == {target.code}, query


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_bounded(admin_client, slot, portal, rows, django_assert_max_num_queries):
    slot.capacity = 100
    slot.save()
    other = add_slot_page(portal, slot.page.project, capacity=100, title="第二场")
    for n in range(rows):
        make_registration(slot if n % 2 else other)
    with django_assert_max_num_queries(14):
        response = admin_client.get(LIST_URL)
    assert len(response.context["object_list"]) == rows
    with django_assert_max_num_queries(10):
        response = admin_client.get(LIST_URL, {"export": "xlsx"})
        b"".join(response.streaming_content)


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_bounded_for_scoped_staff(client, slot, project, make_staff, rows,
                                                      django_assert_max_num_queries):
    slot.capacity = 100
    slot.save()
    for _ in range(rows):
        make_registration(slot)
    clerk = make_staff("home.change_opendayregistration", projects=[project])
    client.force_login(clerk)
    with time_machine.travel(services.slot_starts_at(slot), tick=False):
        with django_assert_max_num_queries(16):
            response = client.get(LIST_URL)
    assert len(response.context["object_list"]) == rows
    assert html(response).count(f'data-w-action-url-value="{LIST_URL}check-in/') == rows


# --- export ---------------------------------------------------------------------------------


@pytest.fixture
def exported(slot):
    """One registration created at 09:05 Shanghai time (01:05 UTC)."""
    with time_machine.travel("2026-11-20 09:05:00 +0800", tick=False):
        return make_registration(slot, mobile="13800138000", name="=HYPERLINK(\"http://x\")", unit="3幢1502",
                                 party_size=2, remark="-请安排轮椅")


HEADINGS = ["报名码", "项目", "活动", "场次日期", "场次时间", "地点", "姓名", "手机号", "房号或合同号",
            "到场人数", "状态", "备注", "报名时间", "签到时间", "取消时间"]


def test_xlsx_export_has_chinese_headings_and_shanghai_times(admin_client, exported, slot):
    response = admin_client.get(LIST_URL, {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADINGS
    row = dict(zip(HEADINGS, rows[1]))
    assert row["报名码"] == exported.code and row["手机号"] == "13800138000"
    assert row["报名时间"] == datetime.datetime(2026, 11, 20, 9, 5)  # wall-clock, not 01:05
    assert row["场次时间"] == "09:30-11:30" and row["状态"] == "已报名" and row["项目"] == "钱塘雅苑"
    assert row["姓名"] == "=HYPERLINK(\"http://x\")"  # a text cell, never a formula
    assert row["签到时间"] is None


def test_csv_export_opens_in_excel_and_defuses_formulas(admin_client, exported):
    response = admin_client.get(LIST_URL, {"export": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == HEADINGS
    row = dict(zip(HEADINGS, rows[1]))
    assert row["报名时间"] == "2026-11-20 09:05:00"
    assert row["姓名"] == "'=HYPERLINK(\"http://x\")" and row["备注"] == "'-请安排轮椅"


def test_export_follows_the_filters_and_the_scope(client, admin_client, slot, other_slot, project, make_staff):
    here = make_registration(slot)
    there = make_registration(other_slot)
    body = b"".join(admin_client.get(LIST_URL, {"export": "csv", "open_day": other_slot.page_id}).streaming_content)
    assert there.code.encode() in body and here.code.encode() not in body

    clerk = make_staff("home.view_opendayregistration", projects=[project])
    client.force_login(clerk)
    body = b"".join(client.get(LIST_URL, {"export": "csv"}).streaming_content)
    assert here.code.encode() in body and there.code.encode() not in body


# --- check-in -------------------------------------------------------------------------------


def test_check_in_from_the_list(admin_client, slot, admin_user, on_the_day):
    registration = make_registration(slot, name="王小明", party_size=3)
    page = html(admin_client.get(LIST_URL))
    check_in_url = url("check_in", registration.pk)
    assert f'data-w-action-url-value="{check_in_url}"' in page and "签到" in page

    response = admin_client.post(check_in_url, {"next": LIST_URL + "?status=registered"})
    assert response.status_code == 302 and response["Location"] == LIST_URL + "?status=registered"
    registration.refresh_from_db()
    assert registration.status == Status.CHECKED_IN
    entry = ModelLogEntry.objects.get(object_id=str(registration.pk), action=services.ACTION_CHECK_IN)
    assert entry.user == admin_user
    page = html(admin_client.get(LIST_URL))
    assert "已签到：王小明，3 人。" in page and "已签到" in page
    assert f'data-w-action-url-value="{check_in_url}"' not in page

    # A second click says when it happened and changes nothing.
    response = admin_client.post(check_in_url, follow=True)
    assert "已于" in html(response)
    assert ModelLogEntry.objects.filter(action=services.ACTION_CHECK_IN).count() == 1
    # The history view shows the audit trail in Chinese.
    history = html(admin_client.get(url("history", registration.pk)))
    assert "开放日签到" in history and "开放日报名" in history


def test_check_in_get_shows_a_confirmation_and_changes_nothing(admin_client, slot, on_the_day):
    registration = make_registration(slot, name="王小明")
    response = admin_client.get(url("check_in", registration.pk), {"next": "https://evil.example/"})
    assert response.status_code == 200
    page = html(response)
    assert "确认签到" in page and "王小明" in page and registration.code in page
    assert "evil.example" not in page  # only local return addresses
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED


def test_check_in_button_only_for_registered_rows_on_the_day(admin_client, slot):
    registration = make_registration(slot)
    assert url("check_in", registration.pk) not in html(admin_client.get(LIST_URL))  # a week early
    response = admin_client.post(url("check_in", registration.pk), follow=True)
    assert "活动当天" in html(response)
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED


def test_check_in_of_a_cancelled_registration_is_refused(admin_client, slot, on_the_day):
    mobile = next_mobile()
    registration = make_registration(slot, mobile=mobile)
    services.cancel(registration.code, mobile)
    assert url("check_in", registration.pk) not in html(admin_client.get(LIST_URL))
    response = admin_client.post(url("check_in", registration.pk), follow=True)
    assert "已取消，不能签到" in html(response)
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED


def test_check_in_needs_the_change_permission(client, slot, project, make_staff, on_the_day):
    registration = make_registration(slot)
    viewer = make_staff("home.view_opendayregistration", projects=[project])
    client.force_login(viewer)
    response = client.get(LIST_URL)
    assert response.status_code == 200 and registration.code in html(response)
    assert url("check_in", registration.pk) not in html(response)
    assert_denied(client.post(url("check_in", registration.pk)))
    assert_denied(client.get(url("check_in", registration.pk)))
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED

    clerk = make_staff("home.change_opendayregistration", projects=[project])
    client.force_login(clerk)
    assert client.post(url("check_in", registration.pk)).status_code == 302
    registration.refresh_from_db()
    assert registration.status == Status.CHECKED_IN


def test_staff_without_any_registration_permission_cannot_open_the_list(client, slot, project, make_staff):
    client.force_login(make_staff(projects=[project]))
    assert_denied(client.get(LIST_URL))


def test_anonymous_visitors_are_sent_to_the_login(client, slot):
    registration = make_registration(slot)
    response = client.post(url("check_in", registration.pk))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_another_projects_registrations_are_invisible(client, slot, other_slot, project, make_staff, on_the_day):
    mine = make_registration(slot)
    theirs = make_registration(other_slot)
    clerk = make_staff("home.change_opendayregistration", projects=[project])
    client.force_login(clerk)
    assert listed_codes(client.get(LIST_URL)) == {mine.code}
    for name in ("inspect", "history", "check_in", "staff_cancel", "edit", "delete"):
        assert client.get(url(name, theirs.pk)).status_code in (403, 404), name
    assert client.post(url("check_in", theirs.pk)).status_code == 404
    assert client.post(url("staff_cancel", theirs.pk), {"reason": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.REGISTERED
    # Filter choices offer only the clerk's own project and open days.
    page = html(client.get(LIST_URL))
    assert "浦江华庭" not in page


# --- cancel on the owner's behalf -----------------------------------------------------------


def test_staff_cancel_needs_a_reason_and_is_logged(admin_client, admin_user, slot):
    registration = make_registration(slot, party_size=2)
    form = admin_client.get(url("staff_cancel", registration.pk))
    assert form.status_code == 200 and "取消原因" in html(form)
    response = admin_client.post(url("staff_cancel", registration.pk), {"reason": ""})
    assert response.status_code == 400
    registration.refresh_from_db()
    assert registration.status == Status.REGISTERED

    response = admin_client.post(url("staff_cancel", registration.pk), {"reason": "业主来电告知无法参加"}, follow=True)
    assert "释放 2 个名额" in html(response)
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED
    entry = ModelLogEntry.objects.get(object_id=str(registration.pk), action=services.ACTION_CANCEL)
    assert entry.user == admin_user and entry.data["reason"] == "业主来电告知无法参加"
    assert "业主来电告知无法参加" in html(admin_client.get(url("history", registration.pk)))


def test_group_editor_offers_only_view_and_change_for_registrations(db):
    from wagtail import hooks

    codenames = {
        permission.codename
        for hook in hooks.get_hooks("register_permissions")
        for permission in hook()
        if permission.content_type.model == "opendayregistration"
    }
    assert codenames == {"view_opendayregistration", "change_opendayregistration"}
