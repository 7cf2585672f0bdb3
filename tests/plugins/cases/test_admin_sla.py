"""时限规则 in the admin (/admin/snippets/cases/slapolicy/): the list with a summary of each
policy's targets, its filters, the policy form with its targets edited inline, the model's own
checks shown on the form, project scope for limited managers, query counts, and an edit through
the screen never moving a running clock."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from plugins.cases import services
from plugins.cases.models import CaseClock, Category, SLAPolicy, SLATarget, WorkCalendar
from tests.conftest import staff_with_perms
from tests.factories import ProjectFactory
from tests.plugins.cases.test_admin import assert_denied, html, sidebar_menu

SH = ZoneInfo("Asia/Shanghai")
NS = "wagtailsnippets_cases_slapolicy"
CHOOSER_NS = "wagtailsnippetchoosers_cases_slapolicy"
LIST_URL = "/admin/snippets/cases/slapolicy/"
SLA_PERMS = ("cases.view_slapolicy", "cases.add_slapolicy", "cases.change_slapolicy")


def url(name, *args, ns=NS):
    return reverse(f"{ns}:{name}", args=args)


def calendar(code):
    return WorkCalendar.objects.get(code=code).pk


def listed(response):
    assert response.status_code == 200, response.status_code
    return sorted(policy.name for policy in response.context["object_list"])


def row(clock, amount, unit="hours", calendar_code="always", before="", remind=80, **extra):
    return {"clock": clock, "amount": amount, "unit": unit, "before_clock": before,
            "calendar": calendar_code or "", "remind_percent": remind, **extra}


def policy_data(targets, existing=(), **fields):
    """POST data of the policy form: ``existing`` rows (with "id") first, then new ones."""
    data = {"name": "本项目报修", "kind": "repair", "category": "", "priority": "", "project": "",
            "order": "50", "active": "on", "repeat_window_days": "90"}
    data.update(fields)
    rows = [*existing, *targets]
    data.update({"targets-TOTAL_FORMS": len(rows), "targets-INITIAL_FORMS": len(existing),
                 "targets-MIN_NUM_FORMS": 0, "targets-MAX_NUM_FORMS": 8})
    for n, values in enumerate(rows):
        for key, value in values.items():
            if key == "calendar" and isinstance(value, str) and value:
                value = calendar(value)  # a calendar's code, read when the test runs
            data[f"targets-{n}-{key}"] = value
    return data


def saved_rows(policy):
    """The policy's targets as the form's rows, ready to post back (changes as overrides)."""
    rows = []
    for target in policy.targets.order_by("pk"):
        rows.append({"id": target.pk, "clock": target.clock, "amount": target.amount, "unit": target.unit,
                     "before_clock": target.before_clock, "calendar": target.calendar_id or "",
                     "remind_percent": target.remind_percent})
    return rows


def edit_data(policy, rows, **fields):
    values = {"name": policy.name, "kind": policy.kind, "category": policy.category_id or "",
              "priority": policy.priority, "project": policy.project_id or "", "order": policy.order,
              "active": "on" if policy.active else "", "repeat_window_days": policy.repeat_window_days}
    values.update(fields)
    return policy_data([], existing=rows, **values)


def targets(policy):
    return {t.clock: (t.amount, t.unit, t.calendar.code if t.calendar else None, t.before_clock)
            for t in policy.targets.select_related("calendar")}


@pytest.fixture
def manager(project):
    """A customer-service manager limited to 钱塘雅苑 (HZ01)."""
    return staff_with_perms(*SLA_PERMS, projects=[project], username="hz-manager")


@pytest.fixture
def m_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def policies(project, other_project):
    """One policy of each project besides the five shipped general ones."""
    always = WorkCalendar.objects.get(code="always")
    made = {}
    for name, proj in (("钱塘雅苑报修", project), ("浦江云庭报修", other_project)):
        policy = SLAPolicy.objects.create(name=name, kind="repair", project=proj, order=50)
        SLATarget.objects.create(policy=policy, clock="resolution", amount=36, unit="hours", calendar=always)
        made[proj.code] = policy
    return made


# --- The list ----------------------------------------------------------------------------------


def test_the_list_shows_each_policy_with_a_readable_summary_of_its_targets(admin_client):
    response = admin_client.get(LIST_URL)
    assert listed(response) == sorted(["紧急报修", "加急报修", "一般报修", "投诉", "咨询"])
    page = html(response)
    for heading in ("名称", "工单类型", "分类", "紧急程度", "项目", "匹配顺序", "启用", "时限目标"):
        assert heading in page, heading
    assert ("联系业主 30 分钟（工作日 8:30–17:30） · 办结 48 小时（全天） · 回访 3 个工作日（工作日 8:30–17:30）"
            in page)
    assert ("受理确认 2 小时（全天） · 答复业主 24 小时（全天） · 部门回复 早于答复业主 1 小时 · "
            "办结 72 小时（全天） · 回访 24 小时（全天） · 现场复核 7 天（全天）") in page
    assert "全部项目（通用）" in page and "全部分类" in page and "任意" in page


def test_the_list_filters_by_kind_project_and_active(admin_client, policies, project):
    SLAPolicy.objects.filter(name="咨询").update(active=False)

    def get(**params):
        return listed(admin_client.get(LIST_URL, params))

    assert get(kind="complaint") == ["投诉"]
    assert get(project=project.pk) == ["钱塘雅苑报修"]
    assert get(project="general", kind="repair") == sorted(["紧急报修", "加急报修", "一般报修"])
    assert get(active="false") == ["咨询"]
    assert "咨询" not in get(active="true")
    assert get(q="雅苑") == ["钱塘雅苑报修"]


# --- Creating and editing with the targets inline ------------------------------------------------


def test_the_form_offers_a_row_for_every_clock_not_set_yet(admin_client):
    routine = SLAPolicy.objects.get(name="一般报修")
    formset = admin_client.get(url("edit", routine.pk)).context["form"].targets
    assert len(formset.forms) == 8 and formset.initial_form_count() == 3
    assert all(form.fields["clock"].disabled for form in formset.forms[:3])
    formset = admin_client.get(url("add")).context["form"].targets
    assert len(formset.forms) == 8 and formset.initial_form_count() == 0


def test_create_a_policy_with_its_targets(admin_client, admin_user, project):
    data = policy_data([row("contact", 15, "minutes", "office"), row("resolution", 24),
                        row("department_reply", 1, calendar_code="", before="resolution")],
                       project=project.pk, priority="urgent")
    response = admin_client.post(url("add"), data)
    assert response.status_code == 302, response.context["form"].targets.errors
    policy = SLAPolicy.objects.get(name="本项目报修")
    assert (policy.project, policy.priority, policy.order) == (project, "urgent", 50)
    assert targets(policy) == {"contact": (15, "minutes", "office", ""), "resolution": (24, "hours", "always", ""),
                               "department_reply": (1, "hours", None, "resolution")}
    assert policy.history.get().history_user == admin_user
    assert {row.history_user for row in SLATarget.history.filter(policy_id=policy.pk)} == {admin_user}


def test_edit_changes_adds_and_deletes_targets(admin_client):
    routine = SLAPolicy.objects.get(name="一般报修")
    rows = saved_rows(routine)
    by_clock = {r["clock"]: r for r in rows}
    by_clock["resolution"]["amount"] = 36
    by_clock["callback"]["DELETE"] = "on"
    data = edit_data(routine, rows)
    data.update({f"targets-3-{key}": value for key, value in row("on_site", 2, calendar_code="").items()})
    data.update({"targets-3-calendar": calendar("always"), "targets-TOTAL_FORMS": 4})
    response = admin_client.post(url("edit", routine.pk), data)
    assert response.status_code == 302, response.context["form"].targets.errors
    assert targets(routine) == {"contact": (30, "minutes", "office", ""), "resolution": (36, "hours", "always", ""),
                                "on_site": (2, "hours", "always", "")}


def test_a_saved_rows_clock_cannot_be_swapped(admin_client):
    """A saved row keeps its clock; posting another is ignored, so the unique (policy, clock)
    constraint never meets a half-done swap."""
    routine = SLAPolicy.objects.get(name="一般报修")
    rows = saved_rows(routine)
    rows[0]["clock"], rows[1]["clock"] = rows[1]["clock"], rows[0]["clock"]
    response = admin_client.post(url("edit", routine.pk), edit_data(routine, rows))
    assert response.status_code == 302
    assert set(targets(routine)) == {"contact", "resolution", "callback"}
    assert targets(routine)["contact"] == (30, "minutes", "office", "")


@pytest.mark.parametrize("rows, fields, where, message", [
    # SLATarget.clean
    ([row("resolution", 24, calendar_code="")], {}, "calendar", "请选择日历。"),
    ([row("answer", 24), row("department_reply", 1, before="answer")], {}, "calendar",
     "“早于”某时限时沿用该时限的日历，请留空。"),
    ([row("answer", 24), row("department_reply", 1, "days", calendar_code="", before="answer")], {}, "unit",
     "“早于”某时限时只能按分钟或小时计。"),
    ([row("answer", 24, calendar_code="", before="answer")], {}, "before_clock", "不能早于自身。"),
    # SLAPolicy.clean
    ([row("resolution", 24)], {"category": "complaint-fees"}, "category", "分类与工单类型不符。"),
    # Across the rows
    ([row("resolution", 24), row("resolution", 12)], {}, "clock", "“办结”已经设置过，每个时限只能设置一次。"),
    ([row("department_reply", 1, calendar_code="", before="answer")], {}, "before_clock",
     "本规则没有“答复业主”时限，无法以它为准。"),
    ([row("answer", 24), row("department_reply", 2, calendar_code="", before="answer"),
      row("acknowledgement", 1, calendar_code="", before="department_reply")], {}, "before_clock",
     "“部门回复”本身早于另一时限，不能再以它为准。"),
    ([], {}, None, "请至少设置一个时限目标。"),
    # Malformed input
    ([row("resolution", "十二")], {}, "amount", None),
    ([row("resolution", 0)], {}, "amount", None),
    ([row("resolution", 24, remind=150)], {}, "remind_percent", None),
    ([row("sometime", 24)], {}, "clock", None),
    ([{**row("resolution", 24), "calendar": 999999}], {}, "calendar", None),
    ([row("resolution", 24)], {"kind": "parcel"}, "kind", None),
])
def test_the_models_checks_appear_on_the_form(admin_client, rows, fields, where, message):
    if fields.get("category"):
        fields["category"] = Category.objects.get(code=fields["category"]).pk
    before = (SLAPolicy.objects.count(), SLATarget.objects.count())
    response = admin_client.post(url("add"), policy_data(rows, **fields))
    assert response.status_code == 400
    form = response.context["form"]
    if where is None:
        errors = list(form.targets.non_form_errors())
    else:  # on the policy's field, or on a target row's
        errors = form.errors.get(where, []) + [e for row_form in form.targets for e in row_form.errors.get(where, [])]
    assert errors, (form.errors, form.targets.errors, form.targets.non_form_errors())
    if message:
        assert message in errors and message in html(response)
    assert (SLAPolicy.objects.count(), SLATarget.objects.count()) == before


def test_a_tampered_formset_is_a_message_not_a_500(admin_client):
    data = policy_data([row("resolution", 24)])
    del data["targets-TOTAL_FORMS"]
    response = admin_client.post(url("add"), data)
    assert response.status_code == 400 and not SLAPolicy.objects.filter(name="本项目报修").exists()
    data = policy_data([row("resolution", 24)] * 9)
    response = admin_client.post(url("add"), data)
    assert response.status_code == 400 and not SLAPolicy.objects.filter(name="本项目报修").exists()


def test_an_invalid_edit_changes_nothing(admin_client):
    routine = SLAPolicy.objects.get(name="一般报修")
    rows = saved_rows(routine)
    rows[1]["amount"] = 12
    rows[0]["calendar"] = ""  # contact without a calendar: refused
    response = admin_client.post(url("edit", routine.pk), edit_data(routine, rows, order=5))
    assert response.status_code == 400 and "请选择日历。" in html(response)
    routine.refresh_from_db()
    assert routine.order == 100 and targets(routine)["resolution"] == (48, "hours", "always", "")


# --- Edits never move running clocks --------------------------------------------------------------


def test_an_edit_through_the_screen_never_moves_a_running_clock(admin_client, new_case):
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH), tick=False):
        first = new_case()
    running = CaseClock.objects.get(case=first, clock="resolution")
    assert running.due_at == dt.datetime(2026, 3, 12, 9, 0, tzinfo=SH)

    routine = SLAPolicy.objects.get(name="一般报修")
    rows = saved_rows(routine)
    resolution = next(r for r in rows if r["clock"] == "resolution")
    resolution.update(amount=12, calendar=calendar("office"))
    response = admin_client.post(url("edit", routine.pk), edit_data(routine, rows))
    assert response.status_code == 302

    running.refresh_from_db()
    assert (running.amount, running.calendar.code) == (48, "always")
    assert running.due_at == dt.datetime(2026, 3, 12, 9, 0, tzinfo=SH)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH), tick=False):
        second = new_case()
    new = CaseClock.objects.get(case=second, clock="resolution")
    assert (new.amount, new.calendar.code) == (12, "office")
    # 12 working hours from Tuesday 09:00: 8.5 on Tuesday, 3.5 on Wednesday.
    assert new.due_at == dt.datetime(2026, 3, 11, 12, 0, tzinfo=SH)


# --- Project scope ---------------------------------------------------------------------------------


def test_a_limited_manager_sees_general_policies_and_their_projects(m_client, policies):
    response = m_client.get(LIST_URL)
    names = listed(response)
    assert "钱塘雅苑报修" in names and "一般报修" in names and "浦江云庭报修" not in names
    page = html(response)
    assert "浦江云庭" not in page
    # Editable: their own project's policy; read-only: the general ones.
    assert url("edit", policies["HZ01"].pk) in page
    general = SLAPolicy.objects.get(name="一般报修")
    assert url("edit", general.pk) not in page and url("inspect", general.pk) in page
    choices = [label for _value, label in response.context["filters"].form.fields["project"].choices]
    assert "钱塘雅苑" in choices and "浦江云庭" not in choices
    assert listed(m_client.get(LIST_URL, {"project": policies["SH02"].project_id})) == names


def test_a_limited_manager_reads_a_general_policy_but_cannot_change_it(m_client):
    general = SLAPolicy.objects.get(name="一般报修")
    response = m_client.get(url("inspect", general.pk))
    assert response.status_code == 200
    page = html(response)
    assert "办结 48 小时（全天）" in page and "全部项目（通用）" in page
    assert url("edit", general.pk) not in page
    assert_denied(m_client.get(url("edit", general.pk)))
    assert_denied(m_client.post(url("edit", general.pk), edit_data(general, saved_rows(general), order=1)))
    general.refresh_from_db()
    assert general.order == 100


def policy_object_urls():
    """(namespace, url name) of every registered admin URL of the SLA policy viewset and its
    chooser whose pattern takes a pk."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif namespace in (NS, CHOOSER_NS) and "pk" in getattr(pattern.pattern, "converters", {}):
                found.append((namespace, pattern.name))

    walk(get_resolver().url_patterns, None)
    return found


def test_another_projects_policy_is_not_found_anywhere(m_client, policies):
    mine, theirs = policies["HZ01"], policies["SH02"]
    found = policy_object_urls()
    assert {"inspect", "edit", "delete", "history", "history_results", "usage", "chosen"} <= {n for _, n in found}
    for namespace, name in found:
        own = reverse(f"{namespace}:{name}", kwargs={"pk": mine.pk})
        other = reverse(f"{namespace}:{name}", kwargs={"pk": theirs.pk})
        assert m_client.get(own).status_code in (200, 302), own
        assert m_client.get(other).status_code in (403, 404), other
        if namespace == NS:
            assert m_client.post(other, edit_data(theirs, saved_rows(theirs), order=1)).status_code in (403, 404)
    page = json.loads(m_client.get(reverse(f"{CHOOSER_NS}:choose")).content)["html"]
    assert "钱塘雅苑报修" in page and "浦江云庭报修" not in page
    theirs.refresh_from_db()
    assert theirs.order == 50 and targets(theirs)["resolution"] == (36, "hours", "always", "")


def test_a_limited_manager_edits_their_projects_policy(m_client, manager, policies):
    mine = policies["HZ01"]
    rows = saved_rows(mine)
    rows[0]["amount"] = 30
    response = m_client.post(url("edit", mine.pk), edit_data(mine, rows))
    assert response.status_code == 302
    assert targets(mine)["resolution"] == (30, "hours", "always", "")
    assert mine.history.first().history_user == manager


def test_a_limited_manager_creates_only_for_their_projects(m_client, project, other_project):
    form = m_client.get(url("add")).context["form"]
    assert list(form.fields["project"].queryset) == [project] and form.fields["project"].required
    for project_id in ("", other_project.pk):
        response = m_client.post(url("add"), policy_data([row("resolution", 24)], project=project_id))
        assert response.status_code == 400 and "project" in response.context["form"].errors
    assert not SLAPolicy.objects.filter(name="本项目报修").exists()
    response = m_client.post(url("add"), policy_data([row("resolution", 24)], project=project.pk))
    assert response.status_code == 302
    assert SLAPolicy.objects.get(name="本项目报修").project == project


def test_moving_a_policy_to_another_project_is_refused(m_client, policies, other_project):
    mine = policies["HZ01"]
    response = m_client.post(url("edit", mine.pk), edit_data(mine, saved_rows(mine), project=other_project.pk))
    assert response.status_code == 400 and "project" in response.context["form"].errors
    mine.refresh_from_db()
    assert mine.project.code == "HZ01"


def test_all_projects_staff_edit_general_policies(client, project):
    staff = staff_with_perms(*SLA_PERMS, all_projects=True)
    client.force_login(staff)
    general = SLAPolicy.objects.get(name="咨询")
    assert client.get(url("edit", general.pk)).status_code == 200
    form = client.get(url("add")).context["form"]
    assert not form.fields["project"].required


def test_the_screen_needs_its_model_permissions(client, project):
    clerk = staff_with_perms("cases.view_case", projects=[project])
    client.force_login(clerk)
    assert_denied(client.get(LIST_URL))
    assert "时限规则" not in sidebar_menu(client.get("/admin/")).get("客服工单", {})
    reader = staff_with_perms("cases.view_slapolicy", projects=[project])
    client.force_login(reader)
    assert client.get(LIST_URL).status_code == 200
    assert_denied(client.get(url("add")))
    general = SLAPolicy.objects.get(name="咨询")
    assert_denied(client.get(url("edit", general.pk)))
    assert sidebar_menu(client.get("/admin/"))["客服工单"]["时限规则"] == LIST_URL


# --- Query counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 40])
def test_list_and_form_query_counts_are_bounded(admin_user, manager, project, extra, django_assert_max_num_queries):
    always = WorkCalendar.objects.get(code="always")
    for n in range(extra):
        policy = SLAPolicy.objects.create(name=f"规则{n}", kind="complaint", order=n,
                                          project=project if n % 2 else ProjectFactory())
        SLATarget.objects.bulk_create(SLATarget(policy=policy, clock=clock, amount=n + 1, calendar=always)
                                      for clock in ("answer", "resolution"))
    for user, visible in ((admin_user, 5 + extra), (manager, 5 + extra // 2)):
        client = Client()
        client.force_login(user)
        with django_assert_max_num_queries(14):
            response = client.get(LIST_URL)
        assert response.context["paginator"].count == visible
    admin_client = Client()
    admin_client.force_login(admin_user)
    routine = SLAPolicy.objects.get(name="一般报修")
    with django_assert_max_num_queries(20):
        assert admin_client.get(url("edit", routine.pk)).status_code == 200
    with django_assert_max_num_queries(12):
        assert admin_client.get(url("inspect", routine.pk)).status_code == 200
