"""The case desk's Wagtail admin as staff use it: the case list (columns, filters, search,
pages, export), registering a case through the service, the case page (header, timeline,
history, the unit's other cases, the verbs this user may do now), each verb's endpoint, the
category and calendar editors, and query counts (/admin/snippets/cases/…)."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from estates.models import Department
from plugins.cases import services, viewsets
from plugins.cases.models import (
    Compensation,
    Case,
    CaseEvent,
    Category,
    Status,
    WorkCalendar,
    WorkCalendarDay,
    WorkCalendarHours,
)
from plugins.cases.views import VERBS
from tests.conftest import sidebar_menu, staff_with_perms
from tests.factories import BuildingFactory, ContractorFactory, DepartmentFactory, UnitFactory

from .conftest import ALL_VERBS

MONEY_AND_FILES = ("cases.add_caseattachment", "cases.add_compensation", "cases.approve_compensation",
                   "cases.add_depositcharge")

SH = ZoneInfo("Asia/Shanghai")
NS = "wagtailsnippets_cases_case"
LIST_URL = "/admin/snippets/cases/case/"


# --- Helpers (also used by test_admin_scope.py and test_queues.py) ------------------------------


def url(name, *args, ns=NS):
    return reverse(f"{ns}:{name}", args=args)


def case_url(case):
    return url("inspect", case.pk)


def act_url(case, verb):
    return url("act", case.pk, verb)


def html(response):
    return response.content.decode()


def listed(response):
    assert response.status_code == 200, response.status_code
    return sorted(case.number for case in response.context["object_list"])


def numbers(*cases):
    return sorted(case.number for case in cases)


def assert_denied(response):
    """Wagtail answers PermissionDenied in the admin with a redirect to the dashboard."""
    assert response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == "/admin/"
    ), (response.status_code, response.get("Location"))


def xlsx_rows(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


#: status → the verbs that take a repair there from 已登记.
PATHS = {
    Status.REGISTERED: [],
    Status.ACCEPTED: ["accept"],
    Status.DISPATCHED: ["accept", "dispatch"],
    Status.IN_PROGRESS: ["accept", "dispatch", "start"],
    Status.PAUSED: ["accept", "dispatch", "start", "pause"],
    Status.COMPLETED: ["accept", "dispatch", "start", "complete"],
    Status.SIGNED_OFF: ["accept", "dispatch", "start", "complete", "sign_off"],
    Status.CLOSED: ["accept", "dispatch", "start", "complete", "sign_off", "close"],
    Status.CANCELLED: ["cancel"],
}


def advance(case, user, status, **dispatch_to):
    """Take ``case`` to ``status`` through the services."""
    for verb in PATHS[status]:
        if verb == "dispatch":
            services.dispatch(case, user, **(dispatch_to or {"assignee": user}))
        elif verb == "pause":
            services.pause(case, user, "owner")
        elif verb == "complete":
            services.complete(case, user, "已修复")
        elif verb == "sign_off":
            services.sign_off(case, user, accepted=True)
        elif verb == "cancel":
            services.cancel(case, user, "重复登记")
        else:
            getattr(services, verb)(case, user)
    case.refresh_from_db()
    assert case.status == status
    return case


@pytest.fixture
def clerk(project):
    """May look at cases of HZ01, nothing more."""
    return staff_with_perms("cases.view_case", projects=[project], username="clerk")


# --- The list ----------------------------------------------------------------------------------


def test_the_list_shows_cases_with_masked_mobiles(admin_client, new_case, unit):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 5, tzinfo=SH), tick=False):
        case = new_case(category=Category.objects.get(code="daily-plumbing"), reporter_mobile="13800138000")
    response = admin_client.get(LIST_URL)
    page = html(response)
    assert response.status_code == 200
    for text in (
        "工单号", "类型", "分类", "紧急程度", "状态", "项目", "房号", "报事人", "处理人", "登记时间",
        case.number, "报修", "日常维修 / 给排水", "一般", "已登记", "钱塘雅苑", unit.label,
        "王女士 138****8000", "2026-11-23 09:05",
    ):
        assert text in page, text
    assert "13800138000" not in page
    assert case_url(case) in page
    # Cases change only through the verbs: no edit, copy or delete anywhere, no bulk actions.
    assert url("edit", case.pk) not in page and url("delete", case.pk) not in page
    assert "data-bulk-action-checkbox" in page  # 批量派单, for staff who may dispatch
    assert url("add") in page and "登记工单" in page


def test_the_admin_offers_no_edit_or_delete_even_to_superusers(admin_client, new_case):
    case = new_case()
    for path in (url("edit", case.pk), url("delete", case.pk)):
        assert_denied(admin_client.get(path))
        assert_denied(admin_client.post(path, {"description": "改了"}))
    # Nor through Wagtail's bulk actions.
    response = admin_client.post(f"/admin/bulk/cases/case/delete/?id={case.pk}", {})
    assert response.status_code in (302, 403, 404)
    case.refresh_from_db()
    assert case.description == "卫生间天花板漏水" and Case.objects.count() == 1
    page = html(admin_client.get(case_url(case)))
    assert url("edit", case.pk) not in page and url("delete", case.pk) not in page


def test_view_permission_alone_shows_the_list_and_pages_without_buttons(client, clerk, new_case):
    case = new_case()
    client.force_login(clerk)
    page = html(client.get(LIST_URL))
    assert case.number in page and url("add") not in page
    response = client.get(case_url(case))
    assert response.status_code == 200
    assert response.context["verb_forms"] == []
    assert "当前没有您可以执行的操作。" in html(response)
    assert_denied(client.get(url("add")))


def test_staff_without_any_case_permission_cannot_open_the_list(client, project, new_case):
    case = new_case()
    client.force_login(staff_with_perms(projects=[project]))
    assert_denied(client.get(LIST_URL))
    assert_denied(client.get(case_url(case)))
    assert_denied(client.post(act_url(case, "accept")))
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_anonymous_visitors_are_sent_to_the_login(client, new_case):
    case = new_case()
    for path in (LIST_URL, case_url(case), act_url(case, "accept")):
        response = client.post(path) if "act" in path else client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_filters(admin_client, agent, new_case, project, unit):
    building = BuildingFactory(project=project, code="9", name="9号楼")
    other_unit = UnitFactory(building=building)
    department = DepartmentFactory(code="ENG", name="工程部")
    contractor = ContractorFactory(name="甲建设", projects=[project])
    plumbing = Category.objects.get(code="daily-plumbing")
    with time_machine.travel(dt.datetime(2026, 11, 20, 23, 30, tzinfo=SH), tick=False):
        early = new_case(category=plumbing)
    with time_machine.travel(dt.datetime(2026, 11, 23, 0, 30, tzinfo=SH), tick=False):
        complaint = new_case(kind="complaint", unit=other_unit, priority="urgent")
        dispatched = advance(new_case(), agent, Status.DISPATCHED, department=department, contractor=contractor)

    def get(**params):
        return listed(admin_client.get(LIST_URL, params))

    assert get(project=project.pk) == numbers(early, complaint, dispatched)
    assert get(building=building.pk) == numbers(complaint)
    assert get(kind="complaint") == numbers(complaint)
    assert get(category=plumbing.pk) == numbers(early)
    assert get(status="dispatched") == numbers(dispatched)
    assert get(priority="urgent") == numbers(complaint)
    assert get(contractor=contractor.pk) == numbers(dispatched)
    assert get(department=department.pk) == numbers(dispatched)
    # Dates are Shanghai dates, both ends included.
    assert get(registered_at_from="2026-11-20", registered_at_to="2026-11-20") == numbers(early)
    assert get(registered_at_from="2026-11-21") == numbers(complaint, dispatched)
    assert get(registered_at_to="2026-11-22") == numbers(early)
    page = html(admin_client.get(LIST_URL, {"project": project.pk}))
    assert "9号楼" in page and "报修 · 日常维修 / 给排水" in page


def test_building_choices_follow_the_chosen_project(admin_client, client, agent, project, other_project, unit):
    BuildingFactory(project=other_project, code="7", name="7号楼")
    choices = admin_client.get(LIST_URL, {"project": project.pk}).context["filters"].form.fields["building"].choices
    assert [label for _value, label in choices][1:] == [unit.building.name]
    choices = admin_client.get(LIST_URL, {"project": other_project.pk}).context["filters"].form.fields["building"].choices
    assert [label for _value, label in choices][1:] == ["7号楼"]
    # Not every building of every project at once: first a project …
    page = html(admin_client.get(LIST_URL))
    assert "7号楼" not in page and "先选择项目" in page
    # … unless the user serves only one.
    client.force_login(agent)
    choices = client.get(LIST_URL).context["filters"].form.fields["building"].choices
    assert [label for _value, label in choices][1:] == [unit.building.name]


@pytest.mark.parametrize("query", ["{number}", "{number_lower}", "{prefix}", "13800138000", "138-0013-8000",
                                   "+86 138 0013 8000", "1380013", "3-", "天花板", "漏水"])
def test_search(admin_client, new_case, project, query):
    target = new_case(reporter_mobile="13800138000", description="卫生间天花板漏水")
    other_unit = UnitFactory(building=BuildingFactory(project=project, code="12"))
    new_case(reporter_mobile="13900139000", description="门锁坏了", unit=other_unit)
    text = query.format(number=target.number, number_lower=target.number.lower(), prefix=target.number[:12])
    if text == target.number[:12]:
        expected = numbers(*Case.objects.filter(number__startswith=text))
    else:
        expected = numbers(target)
    assert listed(admin_client.get(LIST_URL, {"q": text})) == expected, text


def test_a_full_number_finds_exactly_that_case(admin_client, new_case):
    first, second = new_case(), new_case()
    assert listed(admin_client.get(LIST_URL, {"q": first.number})) == numbers(first)
    assert listed(admin_client.get(LIST_URL, {"q": first.number[:-1]})) == numbers(first, second)


def test_twenty_rows_a_page_or_a_hundred(admin_client, agent, project, unit):
    for _ in range(25):
        services.register(agent, kind="repair", channel="hotline", project=project, unit=unit,
                          reporter_name="王", reporter_mobile="13800138000", description="漏水")
    response = admin_client.get(LIST_URL)
    assert len(response.context["object_list"]) == 20 and response.context["paginator"].count == 25
    assert len(admin_client.get(LIST_URL, {"per_page": "100"}).context["object_list"]) == 25
    assert len(admin_client.get(LIST_URL, {"per_page": "5000"}).context["object_list"]) == 20


# --- Export ------------------------------------------------------------------------------------

HEADINGS = ["工单号", "类型", "来源渠道", "分类", "紧急程度", "状态", "项目", "楼栋", "房号", "报事人", "联系电话",
            "问题描述", "责任部门", "施工单位", "处理人", "登记时间", "派单时间", "完工时间", "关闭时间"]


def test_xlsx_export_has_chinese_headings_and_shanghai_times(admin_client, agent, new_case, unit):
    department = DepartmentFactory(code="ENG", name="工程部")
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 5, tzinfo=SH), tick=False):
        case = new_case(category=Category.objects.get(code="daily-plumbing"), description="=HYPERLINK(\"x\")")
        advance(case, agent, Status.DISPATCHED, department=department, assignee=agent)
    new_case(kind="complaint")
    rows = xlsx_rows(admin_client.get(LIST_URL, {"export": "xlsx", "kind": "repair"}))
    assert rows[0] == HEADINGS
    assert len(rows) == 2  # the filter applies to the export
    row = dict(zip(HEADINGS, rows[1]))
    assert row["工单号"] == case.number and row["类型"] == "报修" and row["来源渠道"] == "客服热线"
    assert row["分类"] == "日常维修 / 给排水" and row["状态"] == "已派单" and row["项目"] == "钱塘雅苑"
    assert row["楼栋"] == unit.building.name and row["房号"] == unit.label
    assert row["联系电话"] == "13800138000"  # staff export: the full number
    assert row["问题描述"] == "=HYPERLINK(\"x\")"  # a text cell, never a formula
    assert row["责任部门"] == "工程部" and row["处理人"] == "agent"
    assert row["登记时间"] == dt.datetime(2026, 11, 23, 9, 5)  # wall-clock, not 01:05 UTC
    assert row["派单时间"] == dt.datetime(2026, 11, 23, 9, 5) and row["完工时间"] is None


def test_csv_export_opens_in_excel_and_defuses_formulas(admin_client, new_case):
    new_case(description="=1+1")
    response = admin_client.get(LIST_URL, {"export": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == HEADINGS and rows[1][HEADINGS.index("问题描述")] == "'=1+1"


def test_a_too_large_export_is_refused_with_a_message(admin_client, new_case, monkeypatch):
    new_case(), new_case()
    monkeypatch.setattr(viewsets, "EXPORT_LIMIT", 1)
    response = admin_client.get(LIST_URL, {"export": "xlsx", "kind": "repair"})
    assert response.status_code == 302 and response["Location"] == LIST_URL + "?kind=repair"
    assert "一次最多导出 1 条工单" in html(admin_client.get(response["Location"]))


# --- Queues in the menu ------------------------------------------------------------------------


def test_the_menu_has_the_case_desk_with_its_queues_and_counts(admin_client, agent, new_case):
    advance(new_case(), agent, Status.COMPLETED)
    new_case(), new_case()
    menu = sidebar_menu(admin_client.get("/admin/"))
    desk = menu["客服工单"]
    assert desk["未派单（2）"] == LIST_URL + "?queue=unassigned"
    assert desk["待验收（1）"] == LIST_URL + "?queue=completed"
    assert desk["我的工单（0）"] == LIST_URL + "?queue=mine"
    assert desk["待回访（0）"] == LIST_URL + "?queue=signed_off"
    assert desk["全部工单"] == LIST_URL
    assert {"工单分类", "工作日历", "节假日与调休"} <= set(desk)
    labels = list(desk)
    assert labels.index("我的工单（0）") < labels.index("未派单（2）") < labels.index("全部工单")
    if hasattr(Case, "clocks"):
        assert "已超时（0）" in desk and "2小时内到期（0）" in desk


def test_the_queue_page_says_which_queue_and_filters(admin_client, agent, new_case):
    done = advance(new_case(), agent, Status.COMPLETED)
    new_case()
    response = admin_client.get(LIST_URL, {"queue": "completed"})
    assert listed(response) == numbers(done)
    assert "待验收" in html(response)


def test_a_clerk_sees_the_queues_but_not_the_rules(client, clerk):
    client.force_login(clerk)
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    assert "我的工单（0）" in desk and "全部工单" in desk
    assert not {"工单分类", "工作日历", "节假日与调休"} & set(desk)
    assert_denied(client.get("/admin/snippets/cases/category/"))


# --- Registering -------------------------------------------------------------------------------


def register_data(**overrides):
    data = {
        "kind": "repair", "channel": "hotline", "category": "", "priority": "normal", "complaint_grade": "",
        "project": "", "unit": "", "building": "", "owner": "", "reporter_name": "李先生",
        "reporter_mobile": "+86 139-0013-9000", "description": "厨房下水堵塞",
    }
    data.update(overrides)
    return data


def test_register_form_uses_choosers_not_a_select_of_every_unit(admin_client, unit):
    UnitFactory.create_batch(3, building=unit.building)
    response = admin_client.get(url("add"))
    assert response.status_code == 200
    page = html(response)
    assert "登记工单" in page and unit.label not in page
    assert 'data-chooser-url="/admin/snippets/choose/estates/unit/"' in page or "snippet-chooser" in page


def test_register_calls_the_service(client, agent, unit, project):
    client.force_login(agent)
    plumbing = Category.objects.get(code="daily-plumbing")
    response = client.post(url("add"), register_data(unit=unit.pk, category=plumbing.pk))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert (case.project, case.building, case.unit, case.category) == (project, unit.building, unit, plumbing)
    assert case.reporter_mobile == "13900139000" and case.number.startswith("BX")
    assert case.events.get().verb == "register"
    row = case.history.get()
    assert row.history_user == agent and row.history_change_reason == "登记"
    assert f"已登记工单 {case.number}。" in html(client.get(response["Location"]))


def test_register_an_emergency_category_as_the_service_decides(admin_client, project):
    burst = Category.objects.get(code="emergency-water")
    admin_client.post(url("add"), register_data(project=project.pk, category=burst.pk))
    assert Case.objects.get().priority == "emergency"


@pytest.mark.parametrize("overrides, field, message", [
    ({"reporter_mobile": "12345"}, "reporter_mobile", None),
    ({"description": ""}, "description", None),
    ({}, "project", "请选择项目，或选择房号。"),
    ({"category": "complaint-fees", "project": "HZ01"}, "category", "分类与工单类型不符。"),
])
def test_register_refusals_keep_the_form_with_a_message(admin_client, project, overrides, field, message):
    if overrides.get("category"):
        overrides["category"] = Category.objects.get(code=overrides["category"]).pk
    if overrides.get("project"):
        overrides["project"] = project.pk
    response = admin_client.post(url("add"), register_data(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    if message:
        assert message in errors[field]
    assert Case.objects.count() == 0


def test_register_needs_the_add_permission(client, project):
    handler = staff_with_perms("cases.handle_case", projects=[project])
    client.force_login(handler)
    assert_denied(client.get(url("add")))
    assert_denied(client.post(url("add"), register_data(project=project.pk)))
    assert Case.objects.count() == 0


# --- The case page -----------------------------------------------------------------------------


def test_the_case_page_shows_header_timeline_history_and_the_units_other_cases(admin_client, agent, new_case, unit):
    department = DepartmentFactory(code="ENG", name="工程部")
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=SH), tick=False):
        earlier = new_case(description="阳台渗水")
    with time_machine.travel(dt.datetime(2026, 11, 24, 10, 0, tzinfo=SH), tick=False):
        case = new_case(reporter_mobile="13800138000")
        services.accept(case, agent, note="已致电业主")
        services.dispatch(case, agent, department=department, assignee=agent)
        services.add_note(case, agent, "业主下午在家", visible_to_owner=True)
        services.add_note(case, agent, "内部：材料需采购")
    other_unit_case = new_case(unit=UnitFactory(building=unit.building))
    response = admin_client.get(case_url(case))
    assert response.status_code == 200
    page = html(response)
    for text in (case.number, "已派单", "报修", "客服热线", "钱塘雅苑", unit.label, "王女士", "13800138000",
                 "卫生间天花板漏水", "工程部", "agent", "2026-11-24 10:00"):
        assert text in page, text
    timeline = [(item["verb"], item["event"].text, item["event"].visible_to_owner)
                for item in response.context["timeline"]]
    assert timeline == [("登记", "卫生间天花板漏水", True), ("受理", "已致电业主", True), ("派单", "", True),
                        ("添加备注", "业主下午在家", True), ("添加备注", "内部：材料需采购", False)]
    assert "业主可见" in page and "内部：材料需采购" in page
    history = response.context["history"]
    assert [row["reason"] for row in history] == ["登记", "受理", "派单"]
    assert all(row["user"] == agent for row in history)
    dispatched = {change["label"]: change["value"] for change in history[2]["changes"]}
    assert dispatched["状态"] == "已派单" and dispatched["责任部门"] == "工程部" and dispatched["处理人"] == "agent"
    assert case_url(earlier) in page and earlier.number in page
    assert case_url(other_unit_case) not in page


def test_history_names_a_related_row_the_case_no_longer_points_to(admin_client, agent, new_case):
    first, second = DepartmentFactory(code="A1", name="客服部"), DepartmentFactory(code="B1", name="工程部")
    case = new_case()
    services.dispatch(case, agent, department=first)
    services.dispatch(case, agent, department=second)
    history = admin_client.get(case_url(case)).context["history"]
    assert [dict((c["label"], c["value"]) for c in row["changes"]).get("责任部门") for row in history] == [
        None, "客服部", "工程部"]


def offered(response):
    return [item["verb"].name for item in response.context["verb_forms"]]


@pytest.mark.parametrize("status, verbs", [
    (Status.REGISTERED, ["accept", "dispatch", "escalate", "cancel", "note"]),
    (Status.ACCEPTED, ["dispatch", "contact", "pause", "escalate", "cancel", "note"]),
    (Status.DISPATCHED, ["dispatch", "contact", "start", "pause", "on_site", "complete", "third_party", "escalate",
                         "cancel", "note"]),
    (Status.IN_PROGRESS, ["dispatch", "contact", "pause", "on_site", "complete", "third_party", "escalate", "note"]),
    (Status.PAUSED, ["contact", "resume", "third_party", "escalate", "note"]),
    (Status.COMPLETED, ["sign_off", "escalate", "reopen", "note"]),
    (Status.SIGNED_OFF, ["callback", "close", "escalate", "reopen", "note"]),
    (Status.CLOSED, ["callback", "reopen", "note"]),
    (Status.CANCELLED, ["note"]),
])
def test_buttons_only_for_the_verbs_the_state_allows(client, agent, new_case, status, verbs):
    case = advance(new_case(), agent, status)
    client.force_login(agent)
    response = client.get(case_url(case))
    assert offered(response) == verbs
    page = html(response)
    for verb in VERBS:
        assert (act_url(case, verb) in page) == (verb in verbs), verb


def test_buttons_only_for_the_verbs_the_user_may_do(client, project, new_case):
    case = new_case()
    dispatcher = staff_with_perms("cases.dispatch_case", projects=[project])
    client.force_login(dispatcher)
    assert offered(client.get(case_url(case))) == ["dispatch"]
    closer = staff_with_perms("cases.close_case", projects=[project])
    client.force_login(closer)
    assert offered(client.get(case_url(case))) == ["cancel"]


@pytest.mark.parametrize("kind", ["repair", "complaint"])
@pytest.mark.parametrize("status", Status.values)
def test_the_offered_verbs_are_exactly_those_the_services_accept(agent, new_case, project, status, kind):
    """views.VERBS mirrors the states each service accepts: try every verb in every state."""
    if kind == "complaint" and status in (Status.SIGNED_OFF, Status.CLOSED):
        return  # a complaint is closed without a sign-off; covered by the repairs
    case = advance(new_case(kind=kind), agent, status)
    department, contractor = DepartmentFactory(), ContractorFactory(projects=[project])
    agent = staff_with_perms(*ALL_VERBS, *MONEY_AND_FILES, projects=[project], username="allverbs")
    colleague = staff_with_perms(*ALL_VERBS, *MONEY_AND_FILES, projects=[project], username="colleague")
    pending = Compensation.objects.create(case=case, amount=100, reason="误工", requested_by=colleague)
    pdf = lambda: SimpleUploadedFile("单据.pdf", b"%PDF-1.4 x", "application/pdf")  # noqa: E731
    calls = {
        "accept": lambda: services.accept(case, agent),
        "dispatch": lambda: services.dispatch(case, agent, department=department),
        "contact": lambda: services.record_contact(case, agent, reached=True),
        "start": lambda: services.start(case, agent),
        "pause": lambda: services.pause(case, agent, "owner"),
        "resume": lambda: services.resume(case, agent),
        "complete": lambda: services.complete(case, agent, "好了"),
        "sign_off": lambda: services.sign_off(case, agent, accepted=True),
        "callback": lambda: services.callback(case, agent, reached=True, score=5),
        "close": lambda: services.close(case, agent),
        "third_party": lambda: services.hand_to_third_party(case, agent, contractor, "返修不及时"),
        "escalate": lambda: services.escalate(case, agent, "业主多次来电"),
        "reopen": lambda: services.reopen(case, agent, "问题复发"),
        "cancel": lambda: services.cancel(case, agent, "重复"),
        "note": lambda: services.add_note(case, agent, "备注"),
        "on_site": lambda: services.on_site(case, agent),
        "answer": lambda: services.answer(case, agent, "已安排"),
        "department_reply": lambda: services.department_reply(case, agent, "明天处理"),
        "recheck": lambda: services.recheck(case, agent, "复核正常"),
        "attach": lambda: services.attach(case, agent, [pdf()]),
        "compensation": lambda: services.request_compensation(case, agent, amount=10, reason="误工"),
        "compensation_decision": lambda: services.decide_compensation(pending, agent, approve=True),
        "deposit_charge": lambda: services.charge_deposit(case, agent, amount=10, evidence="报价单"),
        "work_link": lambda: services.work_link(case, agent, renew=True, reason="师傅换了手机"),
    }
    assert set(calls) == set(VERBS)
    for name, verb in VERBS.items():
        try:
            with transaction.atomic():
                calls[name]()
                transaction.set_rollback(True)
            accepted = True
        except services.CaseRefused as refused:
            assert refused.code in ("state", "kind"), (name, refused.code, refused.messages)
            accepted = False
        assert verb.available(case, agent) == accepted, (status, kind, name)


def test_escalation_stops_being_offered_at_the_top_level(client, agent, new_case):
    case = new_case()
    for _ in range(services.MAX_ESCALATION):
        services.escalate(case, agent, "催办")
    client.force_login(agent)
    assert "escalate" not in offered(client.get(case_url(case)))


def test_dispatch_choices_are_the_projects_contractors_and_staff(client, agent, new_case, project, other_project):
    ours = ContractorFactory(name="甲建设", projects=[project])
    ContractorFactory(name="乙装饰", projects=[other_project])
    ContractorFactory(name="丙退场", projects=[project], active=False)
    staff_with_perms("cases.handle_case", projects=[other_project], username="elsewhere")
    staff_with_perms("cases.view_case", projects=[project], username="onlylooks")
    colleague = staff_with_perms("cases.handle_case", projects=[project], username="colleague")
    case = new_case()
    client.force_login(agent)
    form = next(item["form"] for item in client.get(case_url(case)).context["verb_forms"]
                if item["verb"].name == "dispatch")
    assert list(form.fields["contractor"].queryset) == [ours]
    assert {user.username for user in form.fields["assignee"].queryset} == {"agent", "colleague"}
    response = client.post(act_url(case, "dispatch"), {"dispatch-contractor": ours.pk,
                                                       "dispatch-assignee": colleague.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.contractor, case.assignee) == (Status.DISPATCHED, ours, colleague)


# --- Verb endpoints ----------------------------------------------------------------------------


def post_verb(client, case, verb, **fields):
    return client.post(act_url(case, verb), {f"{verb}-{name}": value for name, value in fields.items()})


def test_each_verb_through_its_button(client, agent, new_case):
    client.force_login(agent)
    case = new_case()
    department = Department.objects.create(code="ENG", name="工程部")
    steps = [
        ("accept", {"note": "已联系"}, Status.ACCEPTED, "已受理。"),
        ("dispatch", {"department": department.pk, "note": "请尽快"}, Status.DISPATCHED, "已派单。"),
        ("start", {}, Status.IN_PROGRESS, "已开始处理。"),
        ("pause", {"reason": "parts", "note": "等配件"}, Status.PAUSED, "已暂停。"),
        ("resume", {}, Status.IN_PROGRESS, "已恢复处理。"),
        ("complete", {"result": "更换水管"}, Status.COMPLETED, "已完工，等待业主验收。"),
        ("note", {"text": "业主满意", "visible_to_owner": "on"}, Status.COMPLETED, "备注已添加。"),
    ]
    for verb, fields, status, message in steps:
        response = post_verb(client, case, verb, **fields)
        assert response.status_code == 302 and response["Location"] == case_url(case), verb
        case.refresh_from_db()
        assert case.status == status, verb
        assert message in html(client.get(case_url(case))), verb
    assert case.department == department and case.pause_reason == ""
    events = list(case.events.values_list("verb", "text", "visible_to_owner"))
    assert events[-1] == ("note", "业主满意", True)
    assert ("pause", "等配件", True) in events
    assert case.history.count() == 7  # register + six transitions; the note writes none


def test_cancel_needs_a_reason(client, agent, new_case):
    client.force_login(agent)
    case = new_case()
    response = post_verb(client, case, "cancel", reason="")
    assert response.status_code == 400
    assert "请检查填写的内容。" in html(response)
    assert response.context["verb_forms"][[i["verb"].name for i in response.context["verb_forms"]].index("cancel")][
        "form"].errors["reason"]
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.events.count() == 1
    post_verb(client, case, "cancel", reason="业主自行修好")
    case.refresh_from_db()
    assert case.status == Status.CANCELLED and case.events.last().text == "业主自行修好"


def test_the_verbs_after_the_work_through_their_buttons(client, agent, new_case, project):
    client.force_login(agent)
    case = advance(new_case(), agent, Status.IN_PROGRESS, contractor=ContractorFactory(projects=[project]))
    other = ContractorFactory(name="丙维修", projects=[project])
    steps = [
        ("contact", {"reached": "on", "note": "约好明早九点"}, Status.IN_PROGRESS, "联系情况已记录。"),
        ("third_party", {"contractor": other.pk, "reason": "原单位未按时修复"}, Status.DISPATCHED,
         "已转第三方施工单位。"),
        ("complete", {"result": "已更换"}, Status.COMPLETED, "已完工"),
        ("sign_off", {"accepted": "no", "reason": "仍在滴水"}, Status.IN_PROGRESS, "验收结果已记录。"),
        ("complete", {"result": "重新密封"}, Status.COMPLETED, "已完工"),
        ("sign_off", {"accepted": "yes"}, Status.SIGNED_OFF, "验收结果已记录。"),
        ("callback", {"reached": "on", "score": "5", "remark": "满意"}, Status.CLOSED, "回访已记录。"),
        ("reopen", {"reason": "又漏了"}, Status.IN_PROGRESS, "工单已重开。"),
        ("escalate", {"reason": "反复维修"}, Status.IN_PROGRESS, "已升级。"),
    ]
    for verb, fields, status, message in steps:
        response = post_verb(client, case, verb, **fields)
        assert response.status_code == 302, (verb, response.status_code)
        page = html(client.get(case_url(case)))
        case.refresh_from_db()
        assert case.status == status, (verb, case.status, page[page.find("messages"):][:500])
        assert message in page, verb
    assert (case.contractor, case.original_contractor) == (other, case.original_contractor)
    assert case.original_contractor is not None and case.escalation_level == 2


def test_a_rejected_sign_off_needs_a_reason_from_the_service(client, agent, new_case):
    client.force_login(agent)
    case = advance(new_case(), agent, Status.COMPLETED)
    response = post_verb(client, case, "sign_off", accepted="no", reason="")
    assert response.status_code == 302
    assert "请填写不满意的原因。" in html(client.get(case_url(case)))
    case.refresh_from_db()
    assert case.status == Status.COMPLETED


def test_a_refused_verb_shows_the_services_message_and_changes_nothing(client, agent, new_case):
    client.force_login(agent)
    case = advance(new_case(), agent, Status.COMPLETED)
    response = post_verb(client, case, "cancel", reason="不修了")
    assert response.status_code == 302 and response["Location"] == case_url(case)
    page = html(client.get(case_url(case)))
    assert f"工单 {case.number} 当前状态为“待验收”，不能取消。" in page
    case.refresh_from_db()
    assert case.status == Status.COMPLETED and case.history.count() == 5


def test_a_verb_without_permission_is_refused_by_the_service(client, project, new_case):
    case = new_case()
    clerk = staff_with_perms("cases.view_case", projects=[project])
    client.force_login(clerk)
    response = post_verb(client, case, "accept")
    assert response.status_code == 302
    assert "您没有执行此操作的权限。" in html(client.get(case_url(case)))
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_an_invalid_form_for_a_verb_not_on_offer_is_refused_not_rendered(client, agent, new_case):
    client.force_login(agent)
    case = advance(new_case(), agent, Status.PAUSED)
    response = post_verb(client, case, "complete", result="")
    assert response.status_code == 302
    assert "当前不能执行“完工”。" in html(client.get(case_url(case)))


def test_unknown_verbs_and_gets(client, agent, new_case):
    client.force_login(agent)
    case = new_case()
    assert client.post(act_url(case, "delete")).status_code == 404
    assert client.post(act_url(case, "approve_compensation")).status_code == 404
    response = client.get(act_url(case, "accept"))
    assert response.status_code == 302 and response["Location"] == case_url(case)
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_timeline_and_history_cannot_be_edited_from_the_admin(admin_client, new_case):
    case = new_case()
    event = case.events.get()
    from wagtail.snippets.models import get_snippet_models

    assert CaseEvent not in get_snippet_models()
    assert Case.history.model not in get_snippet_models()
    page = html(admin_client.get(case_url(case)))
    assert "<input" not in page.split('id="case-timeline"')[1]
    assert event.text in page


# --- Query counts ------------------------------------------------------------------------------


def bulk_cases(agent, project, unit, count):
    for n in range(count):
        case = services.register(agent, kind="repair", channel="hotline", project=project, unit=unit,
                                 category=Category.objects.get(code="daily-plumbing"),
                                 reporter_name="王", reporter_mobile=f"1380013{n:04d}", description="漏水")
        if n % 3 == 0:
            services.dispatch(case, agent, assignee=agent, contractor=ContractorFactory(projects=[project]),
                              department=DepartmentFactory())


@pytest.mark.parametrize("rows, per_page", [(20, "20"), (100, "100")])
def test_list_query_count_is_bounded(admin_client, client, agent, project, unit, rows, per_page,
                                     django_assert_max_num_queries):
    bulk_cases(agent, project, unit, rows)
    for who in ("admin", "agent"):
        if who == "agent":
            client.force_login(agent)
        with django_assert_max_num_queries(15):
            response = client.get(LIST_URL, {"per_page": per_page})
        assert len(response.context["object_list"]) == rows
        with django_assert_max_num_queries(15):
            response = client.get(LIST_URL, {"per_page": per_page, "queue": "mine", "project": project.pk})
        with django_assert_max_num_queries(15):
            response = client.get(LIST_URL, {"per_page": per_page, "q": "漏水", "status": "registered"})
    with django_assert_max_num_queries(15):
        response = client.get(LIST_URL, {"export": "xlsx"})
        assert len(xlsx_rows(response)) == rows + 1


@pytest.mark.parametrize("events", [5, 200])
def test_case_page_query_count_is_bounded(client, agent, new_case, unit, events, django_assert_max_num_queries):
    department = DepartmentFactory(code="ENG", name="工程部")
    case = new_case()
    services.accept(case, agent)
    for n in range(events - 2):
        if n % 10 == 0:
            services.dispatch(case, agent, department=department if n % 20 else None, assignee=agent)
        else:
            services.add_note(case, agent, f"第 {n} 条备注", visible_to_owner=n % 2 == 0)
    for _ in range(25):
        new_case()  # the unit's other cases
    assert case.events.count() >= events
    client.force_login(agent)
    with django_assert_max_num_queries(20):
        response = client.get(case_url(case))
    assert len(response.context["timeline"]) == min(case.events.count(), 50)
    assert len(response.context["other_cases"]) == 20 and response.context["more_other_cases"]
    with django_assert_max_num_queries(20):
        response = client.get(case_url(case), {"timeline": "all"})
    assert len(response.context["timeline"]) == case.events.count()


# --- Categories and calendars ------------------------------------------------------------------

CATEGORY_URL = "/admin/snippets/cases/category/"
CALENDAR_URL = "/admin/snippets/cases/workcalendar/"
DAY_URL = "/admin/snippets/cases/workcalendarday/"


def test_categories_are_listed_as_a_tree(admin_client):
    response = admin_client.get(CATEGORY_URL)
    names = [str(category) for category in response.context["object_list"]]
    assert names.index("日常维修") < names.index("日常维修 / 给排水") < names.index("公共区域")
    assert names.index("公共区域") < names.index("公共区域 / 电梯") < names.index("紧急维修")
    assert "上级分类" in html(response)


def test_category_parent_must_be_a_top_level_category_of_the_same_kind(admin_client):
    daily = Category.objects.get(code="daily")
    fees = Category.objects.get(code="complaint-fees")
    form = admin_client.get(url("add", ns="wagtailsnippets_cases_category")).context["form"]
    assert fees not in form.fields["parent"].queryset and daily in form.fields["parent"].queryset
    data = {"kind": "complaint", "parent": daily.pk, "code": "x-1", "name": "噪音", "sort_order": 0, "active": "on"}
    response = admin_client.post(url("add", ns="wagtailsnippets_cases_category"), data)
    assert response.status_code == 200 and "上级分类的类型必须与本分类相同。" in html(response)
    data["kind"] = "repair"
    response = admin_client.post(url("add", ns="wagtailsnippets_cases_category"), data)
    assert response.status_code == 302
    assert Category.objects.get(code="x-1").parent == daily
    response = admin_client.post(url("edit", daily.pk, ns="wagtailsnippets_cases_category"),
                                 {"kind": "repair", "parent": Category.objects.get(code="public").pk,
                                  "code": "daily", "name": "日常维修", "sort_order": 0, "active": "on"})
    assert "本分类已有下级分类" in html(response)


def test_a_category_in_use_cannot_be_deleted(admin_client, new_case):
    plumbing = Category.objects.get(code="daily-plumbing")
    new_case(category=plumbing)
    response = admin_client.post(url("delete", plumbing.pk, ns="wagtailsnippets_cases_category"), follow=True)
    assert response.status_code == 200
    assert "仍在使用中，不能删除" in html(response)
    assert Category.objects.filter(pk=plumbing.pk).exists()


def calendar_data(**overrides):
    data = {"code": "night", "name": "夜班", "always": ""}
    for day in range(7):
        data[f"day{day}_start"] = data[f"day{day}_end"] = ""
    data.update(overrides)
    return data


def test_a_calendar_with_its_weekly_hours(admin_client, admin_user):
    add = url("add", ns="wagtailsnippets_cases_workcalendar")
    response = admin_client.post(add, calendar_data(day0_start="18:00", day0_end="23:30",
                                                    day5_start="09:00", day5_end="12:00"))
    assert response.status_code == 302, response.context["form"].errors
    calendar = WorkCalendar.objects.get(code="night")
    assert list(calendar.hours.values_list("weekday", "start", "end")) == [
        (0, dt.time(18), dt.time(23, 30)), (5, dt.time(9), dt.time(12))]
    assert calendar.history.get().history_user == admin_user
    edit = url("edit", calendar.pk, ns="wagtailsnippets_cases_workcalendar")
    form = admin_client.get(edit).context["form"]
    assert form.initial["day0_start"] == dt.time(18)
    response = admin_client.post(edit, calendar_data(day0_start="18:00", day0_end="22:00",
                                                     day2_start="08:00", day2_end="12:00"))
    assert response.status_code == 302
    assert list(calendar.hours.values_list("weekday", "end")) == [(0, dt.time(22)), (2, dt.time(12))]
    page = html(admin_client.get(CALENDAR_URL))
    assert "周一 18:00-22:00" in page and "7×24 小时" in page


@pytest.mark.parametrize("overrides, message", [
    ({"day0_start": "18:00"}, "请同时填写上班和下班时间"),
    ({"day0_start": "18:00", "day0_end": "09:00"}, "下班时间必须晚于上班时间。"),
    ({}, "请至少填写一天的工作时间"),
])
def test_calendar_hours_are_checked(admin_client, overrides, message):
    response = admin_client.post(url("add", ns="wagtailsnippets_cases_workcalendar"), calendar_data(**overrides))
    assert response.status_code == 200 and message in html(response)
    assert not WorkCalendar.objects.filter(code="night").exists()
    assert not WorkCalendarHours.objects.filter(calendar__code="night").exists()


def test_holidays_and_make_up_days(admin_client):
    response = admin_client.get(DAY_URL, {"date__year": "2026", "kind": "workday"})
    days = [day.date for day in response.context["object_list"]]
    assert dt.date(2026, 2, 14) in days and all(day.year == 2026 for day in days)
    response = admin_client.post(url("add", ns="wagtailsnippets_cases_workcalendarday"),
                                 {"date": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert response.status_code == 302
    assert WorkCalendarDay.objects.get(date=dt.date(2027, 1, 1)).name == "元旦"


def test_rules_need_their_model_permissions(client, project):
    manager = staff_with_perms("cases.view_category", "cases.change_category", "cases.view_workcalendar",
                               projects=[project])
    client.force_login(manager)
    assert client.get(CATEGORY_URL).status_code == 200
    assert client.get(CALENDAR_URL).status_code == 200
    assert_denied(client.get(url("add", ns="wagtailsnippets_cases_workcalendar")))
    assert_denied(client.get(DAY_URL))


def test_group_editor_offers_no_change_or_delete_for_cases(db):
    from wagtail import hooks

    codenames = {
        permission.codename
        for hook in hooks.get_hooks("register_permissions")
        for permission in hook()
        if permission.content_type.app_label == "cases" and permission.content_type.model == "case"
    }
    assert "change_case" not in codenames and "delete_case" not in codenames
    assert {"add_case", "view_case", "handle_case", "dispatch_case", "close_case"} <= codenames


def test_a_long_timeline_shows_the_latest_events_and_all_on_request(client, agent, new_case):
    case = new_case()
    for n in range(60):
        services.add_note(case, agent, f"第{n:02d}条备注")
    client.force_login(agent)
    response = client.get(case_url(case))
    shown = [row["event"].text for row in response.context["timeline"]]
    assert len(shown) == 50 and shown[0] == "第10条备注" and shown[-1] == "第59条备注"
    assert "?timeline=all" in response.content.decode()
    response = client.get(case_url(case), {"timeline": "all"})
    assert len(response.context["timeline"]) == 61 and not response.context["timeline_cut"]
