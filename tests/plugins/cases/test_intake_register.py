"""来电登记, the registration half (/admin/cases/intake/, plugins/cases/intake_forms.py and
intake_views.py): the form below the look-up, prefilled from it, registering through
``services.register`` once per form, through the Django test client as an agent would."""

import re
import threading
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from estates.models import Owner
from plugins.cases import intake, services
from plugins.cases.models import Case, CaseClock, CaseEvent, Category, RoutingRule, StandardReply
from tests.conftest import staff_with_perms
from tests.factories import (
    BuildingFactory,
    DepartmentFactory,
    OwnerFactory,
    OwnershipFactory,
    ProjectFactory,
    UnitFactory,
)

from .conftest import ALL_VERBS, MOBILE
from .test_admin import assert_denied, html

URL = "/admin/cases/intake/"


def token_of(response):
    """The idempotency token the page issued, read from the HTML as a browser would."""
    found = re.search(r'name="token" value="([0-9a-f]*)"', html(response))
    assert found, "no token in the registration form"
    return found.group(1)


def register_form(response):
    """The registration <form> element's HTML."""
    found = re.search(r"<form[^>]*data-intake-register.*?</form>", html(response), re.S)
    assert found, "no registration form on the page"
    return found.group(0)


def fields(project, /, **overrides):
    """What an agent fills in for a leaking pipe in 3-2-1502."""
    data = {
        "project": project.pk, "unit_label": "3-2-1502", "reporter_name": "王芳", "reporter_mobile": MOBILE,
        "channel": "hotline", "kind": "repair", "category": Category.objects.get(code="daily-plumbing").pk,
        "priority": "normal", "complaint_grade": "general", "description": "厨房水管漏水，地上都是水",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post(client, data, q=MOBILE, token=None, **params):
    """Submit the form as the page renders it: its token, to the page's own address."""
    page = client.get(URL, {"q": q, **params})
    data = {"token": token if token is not None else token_of(page), **data}
    return client.post(f"{URL}?{'&'.join(f'{k}={v}' for k, v in {'q': q, **params}.items())}", data)


# --- Prefilled from the look-up --------------------------------------------------------------------


def test_picking_an_owners_unit_fills_project_unit_owner_and_reporter(agent_client, owner, home, project, building):
    OwnershipFactory(owner=OwnerFactory(name="王强", mobile="13600000006"),
                     unit=UnitFactory(building=building, entrance="1", number="701"))
    page = agent_client.get(URL, {"q": "王"})  # two owners: the agent picks
    assert page.status_code == 200
    pick = next(item["pick_url"] for row in page.context["owner_rows"] for item in row["units"]
                if row["owner"] == owner)
    assert f"owner={owner.pk}" in pick and f"unit={home.pk}" in pick
    assert 'autofocus' in re.search(r'<input[^>]*id="intake-q"[^>]*>', html(page)).group(0)

    response = agent_client.get(pick.split("#")[0])
    values = response.context["values"]
    assert (values["project"], values["unit_label"], values["owner"]) == (str(project.pk), "3-2-1502", str(owner.pk))
    assert (values["reporter_name"], values["reporter_mobile"], values["channel"]) == ("王芳", MOBILE, "hotline")
    form = register_form(response)
    assert 'value="3-2-1502"' in form and 'name="owner" value="%s" checked' % owner.pk in form
    assert f'<option value="{project.pk}" selected>钱塘雅苑</option>' in form
    assert '<option value="hotline" selected>客服热线</option>' in form
    # The cursor goes to the first empty field: the category (the look-up box lets go of it).
    assert re.search(r'<select id="intake-r-category"[^>]*autofocus', form)
    assert 'autofocus' not in re.search(r'<input[^>]*id="intake-q"[^>]*>', html(response)).group(0)


def test_a_full_mobile_of_an_owner_with_one_home_fills_the_form_at_once(agent_client, owner, home):
    response = agent_client.get(URL, {"q": "+86 139-0000-0001"})
    assert response.context["result"].picked_unit == home
    values = response.context["values"]
    assert (values["unit_label"], values["owner"], values["reporter_name"]) == ("3-2-1502", str(owner.pk), "王芳")


@pytest.mark.parametrize("typed, focus", [("王", "q"), ("3-2-150", "q"), ("3-2-1502", "category"),
                                          (MOBILE, "category")])
def test_the_cursor_leaves_the_lookup_box_only_once_the_caller_is_found_for_sure(agent_client, owner, typed, focus):
    """The look-up reloads while the agent types: a half-typed name or label keeps the cursor,
    even when it already found the one owner (the form below is filled all the same)."""
    response = agent_client.get(URL, {"q": typed})
    assert response.context["values"]["unit_label"] == "3-2-1502"
    assert response.context["focus"] == focus
    assert html(response).count(" autofocus") == 1


def test_an_unknown_number_is_kept_as_the_reporter(agent_client, owner, project, home):
    page = agent_client.get(URL, {"q": "137 0000 0000"})
    values = page.context["values"]
    assert values["reporter_mobile"] == "13700000000" and values["reporter_name"] == "" and values["owner"] == ""
    assert 'name="owner"' not in register_form(page)  # no owner to link
    response = post(agent_client, fields(project, reporter_name="租户李先生", reporter_mobile="13700000000"),
                    q="137 0000 0000")
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.owner, case.reporter_name, case.reporter_mobile, case.channel) == (
        None, "租户李先生", "13700000000", "hotline")
    assert case.unit == home and case.source.startswith(intake.SOURCE_PREFIX)


def test_the_lookups_category_fills_kind_category_and_the_emergency_priority(agent_client, owner, home):
    water = Category.objects.get(code="emergency-water")
    response = agent_client.get(URL, {"q": MOBILE, "category": water.pk})
    values = response.context["values"]
    assert (values["kind"], values["category"]) == ("repair", str(water.pk))
    form = register_form(response)
    assert '<option value="emergency" selected>紧急</option>' in form
    hint = re.search(r'<p[^>]*id="intake-r-emergency"[^>]*>', form).group(0)
    assert "hidden" not in hint
    # An ordinary category: no hint, the default priority.
    response = agent_client.get(URL, {"q": MOBILE, "category": Category.objects.get(code="daily-plumbing").pk})
    form = register_form(response)
    assert "hidden" in re.search(r'<p[^>]*id="intake-r-emergency"[^>]*>', form).group(0)
    assert '<option value="normal" selected>一般</option>' in form


def test_no_form_before_a_lookup_or_for_unreadable_input(agent_client, owner):
    assert agent_client.get(URL).context["form"] is None
    response = agent_client.get(URL, {"q": "<script>"})
    assert response.status_code == 400 and response.context["form"] is None


# --- Registering -----------------------------------------------------------------------------------


@pytest.fixture
def rule(plumbing, project):
    department = DepartmentFactory(code="ENG", name="工程维修部")
    return RoutingRule.objects.create(name="钱塘雅苑给排水", category=plumbing, project=project, department=department)


def test_register_routes_at_once_and_shows_the_number_where_it_went_and_the_first_due_time(
        agent_client, owner, home, project, rule, agent):
    response = post(agent_client, fields(project, owner=owner.pk), unit=home.pk, owner=owner.pk)
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.status, case.department.name, case.owner, case.unit, case.registered_by) == (
        "dispatched", "工程维修部", owner, home, agent)
    assert (case.kind, case.category.code, case.priority) == ("repair", "daily-plumbing", "normal")
    assert case.description == "厨房水管漏水，地上都是水"
    assert CaseEvent.objects.filter(case=case, verb="register").count() == 1
    location = response["Location"]
    assert location.startswith(URL) and f"registered={case.pk}" in location and f"q={MOBILE}" in location

    page = agent_client.get(location.split("#")[0])
    assert page.status_code == 200
    panel = re.search(r'<section id="intake-done".*?</section>', html(page), re.S).group(0)
    assert f'href="{reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,))}"' in panel
    assert case.number in panel and "工程维修部" in panel and f"已登记工单 {case.number}" in html(page)
    first = CaseClock.objects.filter(case=case, stopped_at__isnull=True).order_by("due_at").first()
    due = first.due_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert f"{first.get_clock_display()}：{due} 前" in panel
    # The look-up of the same caller lists the new case; the cursor waits for the next call.
    assert [row["case"] for row in page.context["rows"]] == [case]
    assert "data-select-all" in re.search(r'<input[^>]*id="intake-q"[^>]*>', html(page)).group(0)
    # A fresh form for the next issue of this caller, with a new token.
    assert token_of(page) != case.source.removeprefix(intake.SOURCE_PREFIX)


def test_a_case_no_rule_matches_says_it_waits_for_a_dispatcher(agent_client, owner, home, project):
    response = post(agent_client, fields(project))
    page = agent_client.get(response["Location"].split("#")[0])
    assert "没有匹配的派单规则" in html(page)
    assert Case.objects.get().status == "registered"


def test_an_emergency_category_registers_as_emergency_whatever_priority_was_left(agent_client, owner, project):
    water = Category.objects.get(code="emergency-water")
    response = post(agent_client, fields(project, category=water.pk, priority="normal", description="爆管了"))
    assert response.status_code == 302
    assert Case.objects.get().priority == "emergency"


def test_a_complaint_with_its_grade(agent_client, owner, project):
    attitude = Category.objects.get(code="complaint-attitude")
    response = post(agent_client, fields(project, kind="complaint", category=attitude.pk, complaint_grade="serious",
                                         description="物业前台态度恶劣"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.kind, case.complaint_grade, case.number[:2]) == ("complaint", "serious", "TS")


def test_a_unit_typed_in_another_form_is_found(agent_client, owner, home, project):
    response = post(agent_client, fields(project, unit_label=" ３－２－１５０２ ", owner=owner.pk))
    assert response.status_code == 302
    assert Case.objects.get().unit == home


def test_a_public_area_repair_needs_no_unit(agent_client, owner, project):
    lights = Category.objects.get(code="public-lighting")
    response = post(agent_client, fields(project, unit_label="", category=lights.pk, description="地库灯不亮"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.unit, case.project) == (None, project)


# --- Double submit ---------------------------------------------------------------------------------


def test_a_second_submit_of_the_same_form_opens_nothing_and_shows_the_first_case(agent_client, owner, project):
    page = agent_client.get(URL, {"q": MOBILE})
    token = token_of(page)
    first = agent_client.post(f"{URL}?q={MOBILE}", {"token": token, **fields(project)})
    assert first.status_code == 302
    case = Case.objects.get()
    again = agent_client.post(f"{URL}?q={MOBILE}", {"token": token, **fields(project, description="又点了一次")})
    assert again.status_code == 409
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(verb="register").count() == 1
    assert f"此登记已提交过：工单 {case.number} 已登记，未重复创建" in html(again)
    assert case.number in re.search(r'<section id="intake-done".*?</section>', html(again), re.S).group(0)
    assert token_of(again) != token  # the form below is for the next issue


def test_the_loser_of_a_race_on_the_token_answers_with_the_winners_case(agent_client, owner, project, monkeypatch):
    """Two workers: both looked before either wrote. The unique source refuses the second insert,
    whose transaction (number counter, clocks) is rolled back whole."""
    page = agent_client.get(URL, {"q": MOBILE})
    token = token_of(page)
    assert agent_client.post(f"{URL}?q={MOBILE}", {"token": token, **fields(project)}).status_code == 302
    winner = Case.objects.get()
    clocks = CaseClock.objects.count()
    looked = []
    real = intake.registered_with

    def not_yet(token):  # the loser's first look, before the winner committed
        looked.append(token)
        return None if len(looked) == 1 else real(token)

    monkeypatch.setattr(intake, "registered_with", not_yet)
    # (It passed the duplicate check too: neither had committed when both looked.)
    loser = agent_client.post(f"{URL}?q={MOBILE}", {"token": token, **fields(project, confirm_new="on")})
    monkeypatch.undo()
    assert loser.status_code == 409 and winner.number in html(loser)
    assert Case.objects.count() == 1 and CaseClock.objects.count() == clocks
    # The loser's number was given back with its transaction: the next case is the day's second.
    assert post(agent_client, fields(project, confirm_new="on")).status_code == 302
    latest = Case.objects.exclude(pk=winner.pk).get()
    assert int(latest.number.rsplit("-", 1)[1]) == int(winner.number.rsplit("-", 1)[1]) + 1


def test_a_form_without_its_token_is_refused_and_keeps_what_was_typed(agent_client, owner, project):
    response = agent_client.post(f"{URL}?q={MOBILE}", {"token": "", **fields(project, description="阳台漏水")})
    assert response.status_code == 400
    assert "登记表单已失效" in html(response) and "阳台漏水" in register_form(response)
    assert not Case.objects.exists()
    # The page gives a new token: submitting again registers.
    retry = agent_client.post(f"{URL}?q={MOBILE}", {"token": token_of(response), **fields(project)})
    assert retry.status_code == 302 and Case.objects.count() == 1


def test_another_agents_token_shows_nothing_of_their_case(client, agent_client, owner, project):
    page = agent_client.get(URL, {"q": MOBILE})
    token = token_of(page)
    agent_client.post(f"{URL}?q={MOBILE}", {"token": token, **fields(project)})
    case = Case.objects.get()
    colleague = staff_with_perms(*ALL_VERBS, projects=[project], username="colleague")
    client.force_login(colleague)
    response = client.post(f"{URL}?q={MOBILE}", {"token": token, **fields(project, description="同一令牌")})
    assert response.status_code == 400 and "登记表单已失效" in html(response)
    assert 'id="intake-done"' not in html(response) and Case.objects.count() == 1 and case.number


# --- Bad input: a Chinese message on the field, a 400, everything typed kept ----------------------


@pytest.mark.parametrize("overrides, field, words", [
    ({"unit_label": "3-9-9999"}, "unit_label", "项目“钱塘雅苑”内没有房号“3-9-9999”"),
    ({"category": "complaint-attitude"}, "category", "分类“投诉 / 服务态度”属于投诉，与所选类型“报修”不符"),
    ({"category": "inactive"}, "category", "分类“给排水”已停用"),
    ({"category": ""}, "category", "请选择分类"),
    ({"category": "999999"}, "category", "请选择有效的分类"),
    ({"description": "   "}, "description", "请填写问题描述"),
    ({"description": "x" * 2001}, "description", "2000"),
    ({"reporter_mobile": "12345"}, "reporter_mobile", "手机号“12345”无效"),
    ({"reporter_mobile": "+86 139-0000-00012"}, "reporter_mobile", "无效"),
    ({"reporter_name": ""}, "reporter_name", "请填写来电人姓名"),
    ({"project": ""}, "project", "请选择项目"),
    ({"kind": "complaint", "category": "complaint-attitude", "complaint_grade": ""}, "complaint_grade",
     "投诉请选择投诉等级"),
    ({"kind": "other"}, "kind", "选择一个有效的选项"),
])
def test_bad_input_gets_a_chinese_message_a_400_and_keeps_the_typed_text(agent_client, owner, project, plumbing,
                                                                       overrides, field, words):
    overrides = dict(overrides)
    if overrides.get("category") == "inactive":
        Category.objects.filter(pk=plumbing.pk).update(active=False)
        overrides["category"] = plumbing.pk
    elif overrides.get("category") in ("complaint-attitude",):
        overrides["category"] = Category.objects.get(code=overrides["category"]).pk
    data = fields(project, **{"reporter_name": "王芳女士", **overrides})
    if "description" not in overrides:
        data["description"] = "卫生间地漏反水 <b>急</b>"
    response = post(agent_client, data)
    assert response.status_code == 400, response.status_code
    assert not Case.objects.exists()
    form = register_form(response)
    assert words in " ".join(response.context["form"].errors[field]) and words in form
    # The field says it is wrong and gets the cursor.
    assert response.context["focus"] == field
    # What was typed is still there (escaped).
    if "description" not in overrides:
        assert "卫生间地漏反水 &lt;b&gt;急&lt;/b&gt;</textarea>" in form
    if field != "reporter_name":
        assert 'value="王芳女士"' in form
    assert "<b>急</b>" not in html(response)


def test_a_project_outside_the_agents_scope_is_a_404(agent_client, owner, other_project):
    response = post(agent_client, fields(other_project, unit_label=""))
    assert response.status_code == 404
    assert not Case.objects.exists()


def test_an_owner_outside_the_agents_scope_is_a_404(agent_client, owner, project, other_project):
    stranger = OwnerFactory(name="王强", mobile="13600000006")
    OwnershipFactory(owner=stranger, unit=UnitFactory(building=BuildingFactory(project=other_project, code="7")))
    response = post(agent_client, fields(project, owner=stranger.pk))
    assert response.status_code == 404
    assert not Case.objects.exists()


def test_a_unit_of_another_project_typed_into_this_one_is_not_found(agent_client, owner, project, other_project):
    UnitFactory(building=BuildingFactory(project=other_project, code="7"), entrance="1", number="701")
    response = post(agent_client, fields(project, unit_label="7-1-701"))
    assert response.status_code == 400 and "内没有房号“7-1-701”" in html(response)


def test_an_owner_who_does_not_own_the_unit_is_not_linked_to_it(agent_client, owner, building, project):
    UnitFactory(building=building, entrance="2", number="1601")
    response = post(agent_client, fields(project, unit_label="3-2-1601", owner=owner.pk))
    assert response.status_code == 400
    assert "王芳不是房号 3-2-1601 的当前业主" in html(response)
    # Unticking the box registers the call with 王芳 as the reporter only.
    response = post(agent_client, fields(project, unit_label="3-2-1601", owner_offer=owner.pk))
    assert response.status_code == 302
    assert Case.objects.get().owner is None


def test_without_permission_to_register_nothing_is_posted(client, owner, project):
    viewer = staff_with_perms("cases.view_case", projects=[project], username="viewer")
    client.force_login(viewer)
    assert_denied(client.post(f"{URL}?q={MOBILE}", {"token": "a" * 32, **fields(project)}))
    assert not Case.objects.exists()


# --- Possible duplicate --------------------------------------------------------------------------


def test_an_open_case_of_the_unit_and_category_asks_before_a_second_one(agent_client, owner, home, project,
                                                                        new_case, plumbing):
    existing = new_case(unit=home, category=plumbing)
    response = post(agent_client, fields(project, description="还在漏，楼下也湿了"))
    assert response.status_code == 400
    assert Case.objects.count() == 1
    page = html(response)
    assert "可能重复" in page and existing.number in page and "记入此工单（不新建）" in page
    assert response.context["focus"] == "confirm_new"
    # The "add this call to it" form carries what was typed.
    warning = re.search(r'<div[^>]*id="intake-duplicates".*?</ul>', page, re.S).group(0)
    add = re.search(r'<form class="intake-add-call"[^>]*action="([^"]+)".*?</form>', warning, re.S)
    assert add.group(1) == reverse("cases_intake_add_call", args=(existing.pk,))
    assert "还在漏，楼下也湿了</textarea>" in add.group(0)
    # Marked in the look-up's list too.
    assert [row["case"] for row in response.context["rows"] if row["duplicate"]] == [existing]
    # Confirmed: a second case.
    response = post(agent_client, fields(project, description="另一处漏水", confirm_new="on"))
    assert response.status_code == 302 and Case.objects.count() == 2


def test_a_closed_case_of_the_unit_and_category_is_no_duplicate(agent_client, owner, home, project, new_case,
                                                                 plumbing, agent):
    services.cancel(new_case(unit=home, category=plumbing), agent, "误登")
    assert post(agent_client, fields(project)).status_code == 302


# --- Standard replies --------------------------------------------------------------------------------


def reply(title, text="", live=True, **fields):
    item = StandardReply.objects.create(title=title, text=text or f"{title}的内容", live=False, **fields)
    if live:
        item.save_revision().publish()
        item.refresh_from_db()
    return item


def test_live_replies_for_the_kind_and_category_are_offered_and_inserted_without_javascript(
        agent_client, owner, project, plumbing):
    general = reply("通用致歉", text="给您带来不便，非常抱歉。")
    piping = reply("给排水说明", category=plumbing)
    complaint = reply("投诉受理", kind="complaint")
    reply("草稿", live=False)
    page = agent_client.get(URL, {"q": MOBILE, "category": plumbing.pk})
    shown = {row["reply"].title: row["shown"] for row in page.context["replies"]}
    assert shown == {"通用致歉": True, "给排水说明": True, "投诉受理": False}
    form = register_form(page)
    assert "草稿" not in form and f'data-category="{plumbing.pk}"' in form
    assert re.search(rf'<li data-kind="complaint" data-category="" hidden>\s*<button[^>]*value="{complaint.pk}"', form)
    assert piping.pk

    # Without JavaScript the reply's button posts the form: the text goes after the description.
    token = token_of(page)
    response = agent_client.post(f"{URL}?q={MOBILE}", {
        "token": token, "insert_reply": general.pk, **fields(project, description="厨房漏水")})
    assert response.status_code == 200 and not Case.objects.exists()
    assert "厨房漏水\n给您带来不便，非常抱歉。</textarea>" in register_form(response)
    assert token_of(response) == token and response.context["focus"] == "description"


# --- Keyboard ----------------------------------------------------------------------------------------


def test_enter_registers_through_the_forms_first_button_and_the_script_is_served(agent_client, owner, plumbing):
    reply("通用致歉")
    form = register_form(agent_client.get(URL, {"q": MOBILE}))
    buttons = re.findall(r"<button[^>]*>", form)
    # The first submit button is the default one Enter uses: no name, never a reply's button.
    assert 'type="submit"' in buttons[0] and "name=" not in buttons[0] and "insert_reply" in " ".join(buttons)
    assert any("data-intake-submit" in button for button in buttons)
    page = html(agent_client.get(URL, {"q": MOBILE}))
    assert "cases/intake.js" in page and "<script>" not in page.split("<main", 1)[-1].split("</main>")[0]
    assert finders.find("cases/intake.js")


def test_an_error_puts_the_cursor_on_the_first_wrong_field(agent_client, owner, project):
    response = post(agent_client, fields(project, unit_label="9-9-9", description=""))
    form = register_form(response)
    assert response.context["focus"] == "unit_label"
    assert re.search(r'<input[^>]*id="intake-r-unit"[^>]*autofocus', form)
    assert form.count("autofocus") == 1


# --- Bounded queries -----------------------------------------------------------------------------

MAX_QUERIES = 14  # measured: 14 (session, user, permissions, Wagtail menu; scope; the options; the look-up)


def test_the_page_with_results_and_the_form_stays_bounded(agent_client, owner, home, building, new_case, plumbing):
    for title in ("通用致歉", "上门时间"):
        reply(title)
    for i in range(5):
        unit = UnitFactory(building=building, entrance="8", number=f"80{i}")
        OwnershipFactory(owner=owner, unit=unit)
        new_case(unit=unit, category=plumbing, reporter_mobile=MOBILE)
    agent_client.get(URL, {"q": "warm-up 预热"})

    def count(**params):
        with CaptureQueriesContext(connection) as queries:
            response = agent_client.get(URL, params)
        assert response.status_code == 200 and response.context["form"] is not None
        return len(queries)

    params = {"q": MOBILE, "unit": home.pk, "owner": owner.pk, "category": plumbing.pk}
    few = count(**params)
    for i in range(10):
        new_case(unit=home, category=plumbing, reporter_mobile=MOBILE)
    agent_client.get(URL, {"q": "warm-up 预热"})  # the menu's cached counts, renewed by a new case
    many = count(**params)
    assert many == few and len(agent_client.get(URL, params).context["rows"]) == 15
    assert few <= MAX_QUERIES, few


def test_registering_costs_a_bounded_number_of_queries(agent_client, owner, home, project, rule):
    page = agent_client.get(URL, {"q": MOBILE})
    with CaptureQueriesContext(connection) as queries:
        response = agent_client.post(f"{URL}?q={MOBILE}", {"token": token_of(page), **fields(project)})
    assert response.status_code == 302
    assert len(queries) <= 60, len(queries)  # measured: 54 (register, clocks, routing, history)


# --- Two submits at the same moment, on PostgreSQL ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_form_at_the_same_moment_open_one_case():
    from plugins.cases.defaults import create_all

    create_all(apps)  # the flush of a transactional test removed the shipped defaults
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    UnitFactory(building=BuildingFactory(project=project, code="3"), entrance="2", number="1502")
    Owner.objects.create(name="王芳", mobile=MOBILE)
    agent = staff_with_perms(*ALL_VERBS, projects=[project], username="agent")
    clients = [Client(), Client()]
    for each in clients:
        each.force_login(agent)
    token = token_of(clients[0].get(URL, {"q": MOBILE}))
    data = {"token": token, **fields(project)}
    barrier = threading.Barrier(2)
    statuses, errors = [], []

    def submit(each):
        try:
            barrier.wait()
            statuses.append(each.post(f"{URL}?q={MOBILE}", data).status_code)
        except Exception as error:  # collected for the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(statuses) == [302, 409]
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert case.source == intake.source_for(token)
    assert CaseEvent.objects.filter(case=case, verb="register").count() == 1
