"""Standard replies (统一说辞) where staff write — only live replies for the case are offered, a
draft never — and the admin screens of routing rules and standard replies: a 客服经理 manages
them within their projects, a 呼叫中心坐席 may not edit them (groups from migration 0005_roles)."""

import re

import pytest
from django.contrib.auth.models import Group
from django.template.loader import render_to_string
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from wagtail.models import WorkflowState

from plugins.cases.models import Case, Category, RoutingRule, StandardReply
from plugins.cases.replies import REPLY_VERBS, replies_for
from tests.conftest import staff_with_perms
from tests.factories import (
    BuildingFactory,
    ContractorFactory,
    DepartmentFactory,
    StaffProfileFactory,
    UserFactory,
)
from tests.plugins.cases.test_admin import assert_denied, html, sidebar_menu

RULES_URL = "/admin/snippets/cases/routingrule/"
REPLIES_URL = "/admin/snippets/cases/standardreply/"


def category(code):
    return Category.objects.get(code=code)


def reply(title, text="", live=True, **fields):
    """A standard reply; a live one published through its revision, as the workflow does."""
    item = StandardReply.objects.create(title=title, text=text or f"{title}的内容", live=False, **fields)
    if live:
        item.save_revision().publish()
        item.refresh_from_db()
    return item


def role_user(group, projects, username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    StaffProfileFactory(user=user, projects=list(projects))
    return user


@pytest.fixture
def manager(project):
    return role_user("客服经理", [project], "manager")


@pytest.fixture
def call_agent(project):
    return role_user("呼叫中心坐席", [project], "call-agent")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# --- Which replies are offered -------------------------------------------------------------------


def test_only_live_replies_for_the_cases_kind_and_category_are_offered(new_case, django_assert_num_queries):
    general = reply("通用致歉", sort_order=50)
    repairs = reply("报修受理", kind="repair", sort_order=10)
    reply("投诉受理", kind="complaint")
    daily = reply("日常维修说明", category=category("daily"), sort_order=20)
    plumbing = reply("给排水说明", category=category("daily-plumbing"), sort_order=30)
    reply("电梯说明", category=category("public-lift"))
    reply("草稿", live=False)
    edited = reply("上门时间", text="师傅将在两小时内联系您。", sort_order=40)
    edited.text = "尚未审核的新说法"
    edited.save_revision()  # a draft of a live reply: the live text is still what staff get
    case = Case.objects.get(pk=new_case(category=category("daily-plumbing")).pk)
    with django_assert_num_queries(1):
        offered = replies_for(case)
    assert offered == [repairs, daily, plumbing, edited, general]
    assert [item.text for item in offered if item.pk == edited.pk] == ["师傅将在两小时内联系您。"]
    uncategorised = Case.objects.get(pk=new_case().pk)
    assert replies_for(uncategorised) == [repairs, edited, general]


def test_a_reply_taken_back_from_live_is_no_longer_offered(new_case):
    item = reply("通用致歉")
    case = new_case()
    assert replies_for(case) == [item]
    item.unpublish()
    assert replies_for(case) == []


def picker(verb, replies):
    return render_to_string("cases/admin/_standard_replies.html",
                            {"verb": verb, "standard_replies": replies, "standard_reply_verbs": REPLY_VERBS})


def test_the_picker_inserts_from_a_hidden_unnamed_select_and_falls_back_to_text(new_case):
    item = reply("上门时间", text='师傅将在"两小时"内联系您。\n请保持电话畅通。')
    page = picker("note", replies_for(new_case()))
    select = re.search(r"<select[^>]*>", page).group(0)
    assert "name=" not in select  # never submitted with the note
    assert 'id="note-standard-reply"' in select and 'for="note-standard-reply"' in page
    assert re.search(r"<div[^>]*data-standard-replies[^>]*hidden", page)  # shown by the script only
    assert f'value="{item.pk}" data-text="师傅将在&quot;两小时&quot;内联系您。\n请保持电话畅通。"' in page
    assert '<script src="/static/cases/standard_replies.js" defer></script>' in page
    assert "<noscript>" in page and "请保持电话畅通。" in page.split("<noscript>")[1]
    assert "onchange" not in page and "<script>" not in page  # nothing inline (CSP)
    assert "上门时间" in picker("contact", [item])
    assert picker("dispatch", [item]).strip() == ""
    assert picker("note", []).strip() == ""


# --- Routing rules in the admin ------------------------------------------------------------------


@pytest.fixture
def scene(project, other_project, unit):
    """A rule of each project, one for every project, and what the rule form offers."""
    ours_contractor = ContractorFactory(name="甲水电公司", projects=[project])
    theirs_contractor = ContractorFactory(name="乙装饰公司", projects=[other_project])
    theirs_building = BuildingFactory(project=other_project, code="5", name="5号楼")
    ours_staff = staff_with_perms("cases.handle_case", projects=[project], username="ours-staff")
    theirs_staff = staff_with_perms("cases.handle_case", projects=[other_project], username="theirs-staff")
    ours = RoutingRule.objects.create(name="钱塘雅苑报修", project=project, contractor=ours_contractor)
    theirs = RoutingRule.objects.create(name="浦江云庭报修", project=other_project, contractor=theirs_contractor)
    everywhere = RoutingRule.objects.create(name="全部项目投诉", kind="complaint",
                                            department=DepartmentFactory(code="CS", name="客服部"))
    return {"ours": ours, "theirs": theirs, "everywhere": everywhere, "ours_contractor": ours_contractor,
            "theirs_contractor": theirs_contractor, "theirs_building": theirs_building,
            "ours_staff": ours_staff, "theirs_staff": theirs_staff}


def rule_data(**overrides):
    data = {"name": "3号楼给排水", "order": "10", "active": "on", "kind": "repair", "category": "",
            "priority": "", "project": "", "building": "", "department": "", "contractor": "",
            "strategy": "round_robin"}
    data.update(overrides)
    return data


def listed_names(response):
    assert response.status_code == 200, response.status_code
    return sorted(str(item) for item in response.context["object_list"])


def test_a_manager_lists_and_adds_rules_of_their_projects(manager_client, manager, scene, project, unit):
    assert listed_names(manager_client.get(RULES_URL)) == ["钱塘雅苑报修"]
    page = html(manager_client.get(RULES_URL))
    assert "甲水电公司" in page and "浦江云庭" not in page
    response = manager_client.post(f"{RULES_URL}add/", rule_data(
        category=category("daily-plumbing").pk, building=unit.building.pk, contractor=scene["ours_contractor"].pk,
        pool=[scene["ours_staff"].pk], strategy="least_loaded"))
    assert response.status_code == 302, response.context["form"].errors
    rule = RoutingRule.objects.get(name="3号楼给排水")
    # A building's rule belongs to the building's project.
    assert (rule.project, rule.building, rule.contractor) == (project, unit.building, scene["ours_contractor"])
    assert list(rule.pool.all()) == [scene["ours_staff"]]
    assert rule.history.get().history_user == manager
    for view in ("edit", "inspect", "history"):
        assert manager_client.get(f"{RULES_URL}{view}/{rule.pk}/").status_code == 200, view
    assert listed_names(manager_client.get(RULES_URL, {"q": "给排水"})) == ["3号楼给排水"]
    assert listed_names(manager_client.get(RULES_URL, {"strategy": "least_loaded"})) == ["3号楼给排水"]
    response = manager_client.post(f"{RULES_URL}edit/{rule.pk}/", rule_data(
        project=project.pk, department=DepartmentFactory(code="ENG", name="工程部").pk, active=""))
    assert response.status_code == 302, response.context["form"].errors
    rule.refresh_from_db()
    assert (rule.active, rule.department.name, rule.building, list(rule.pool.all())) == (False, "工程部", None, [])


def test_the_rule_form_offers_nothing_of_another_project(manager_client, manager, scene, project):
    form = manager_client.get(f"{RULES_URL}add/").context["form"]
    assert list(form.fields["project"].queryset) == [project]
    assert list(form.fields["contractor"].queryset) == [scene["ours_contractor"]]
    assert scene["theirs_building"] not in form.fields["building"].queryset
    # Staff who may handle cases in the manager's projects (the manager among them).
    assert list(form.fields["pool"].queryset) == [manager, scene["ours_staff"]]
    filters = manager_client.get(RULES_URL).context["filters"].form
    assert list(filters.fields["project"].queryset) == [project]
    page = html(manager_client.get(f"{RULES_URL}add/"))
    for text in ("浦江云庭", "乙装饰公司", "theirs-staff"):
        assert text not in page, text


def rule_object_urls():
    """(namespace, url name) of every admin URL of the routing-rule viewset and its chooser
    whose pattern takes a pk."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in (
                "wagtailsnippets_cases_routingrule", "wagtailsnippetchoosers_cases_routingrule"
            ) and "pk" in getattr(pattern.pattern, "converters", {}):
                found.append((namespace, pattern.name))

    walk(get_resolver().url_patterns, None)
    return found


def test_another_projects_rule_and_rules_for_every_project_are_out_of_a_managers_reach(manager_client, scene):
    urls = rule_object_urls()
    assert {"edit", "delete", "inspect", "history", "usage", "chosen"} <= {name for _namespace, name in urls}
    for namespace, name in urls:
        own = reverse(f"{namespace}:{name}", kwargs={"pk": scene["ours"].pk})
        assert manager_client.get(own).status_code == 200, own
        for rule in (scene["theirs"], scene["everywhere"]):
            other = reverse(f"{namespace}:{name}", kwargs={"pk": rule.pk})
            response = manager_client.get(other)
            assert response.status_code in (403, 404), (other, response.status_code)
            if "choosers" not in namespace:
                response = manager_client.post(other, {})
                assert response.status_code in (403, 404), (other, "POST", response.status_code)
    assert RoutingRule.objects.count() == 3
    assert {rule.name for rule in RoutingRule.objects.all()} == {"钱塘雅苑报修", "浦江云庭报修", "全部项目投诉"}


@pytest.mark.parametrize("overrides, field, message", [
    ({}, "project", "您只负责部分项目，请选择规则适用的项目。"),
    ({"kind": "complaint", "category": "daily-plumbing"}, "category", "分类与工单类型不符。"),
    ({"contractor": "theirs_contractor"}, "contractor", None),  # not among the choices
    ({"contractor": "ours_contractor", "project": "other"}, "project", None),
    ({"building": "theirs_building"}, "building", None),
    ({"pool": "theirs_staff"}, "pool", None),
    ({"pool": "no_rights"}, "pool", None),  # may not handle cases: not offered
    ({"department": None, "project": "own"}, "__all__", "请至少选择一个派单对象"),
])
def test_the_rule_form_explains_what_is_wrong(manager_client, scene, project, other_project, overrides, field,
                                              message):
    no_rights = staff_with_perms("cases.view_case", projects=[project], username="no-rights")
    values = {"own": project.pk, "other": other_project.pk, "theirs_contractor": scene["theirs_contractor"].pk,
              "ours_contractor": scene["ours_contractor"].pk, "theirs_building": scene["theirs_building"].pk,
              "theirs_staff": scene["theirs_staff"].pk, "no_rights": no_rights.pk,
              "daily-plumbing": category("daily-plumbing").pk}
    data = rule_data(department=DepartmentFactory(code="ENG").pk)
    for name, value in overrides.items():
        data[name] = "" if value is None else values.get(value, value)
    if field not in ("project", "__all__") and "project" not in overrides:
        data["project"] = project.pk
    response = manager_client.post(f"{RULES_URL}add/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    if message:
        assert message in " ".join(errors[field]) and message in html(response)
    assert not RoutingRule.objects.filter(name="3号楼给排水").exists()


def test_contractor_and_pool_must_serve_the_rules_project(admin_client, scene, project, other_project):
    response = admin_client.post(f"{RULES_URL}add/", rule_data(project=other_project.pk,
                                                               contractor=scene["ours_contractor"].pk))
    assert response.status_code == 200
    assert "该施工单位不服务所选项目。" in html(response)
    response = admin_client.post(f"{RULES_URL}add/", rule_data(
        project=project.pk, contractor=scene["ours_contractor"].pk,
        pool=[scene["ours_staff"].pk, scene["theirs_staff"].pk]))
    assert response.status_code == 200
    assert response.context["form"].errors["pool"] == [
        "以下人员不能处理该项目的工单（已停用、没有处理权限或不服务该项目）：theirs-staff"]
    response = admin_client.post(f"{RULES_URL}add/", rule_data(
        project=project.pk, building=scene["theirs_building"].pk, contractor=scene["ours_contractor"].pk))
    assert response.context["form"].errors["building"] == ["楼栋不属于所选项目。"]
    retired = ContractorFactory(name="停用公司", projects=[project], active=False)
    response = admin_client.post(f"{RULES_URL}add/", rule_data(project=project.pk, contractor=retired.pk))
    assert "该施工单位已停止合作，不能派单。" in html(response)
    assert not RoutingRule.objects.filter(name="3号楼给排水").exists()
    # Staff serving all projects may write a rule for every project.
    response = admin_client.post(f"{RULES_URL}add/", rule_data(contractor=scene["ours_contractor"].pk))
    assert response.status_code == 302
    assert RoutingRule.objects.get(name="3号楼给排水").project is None


def test_a_call_centre_agent_may_not_see_or_edit_rules(client, call_agent, scene):
    client.force_login(call_agent)
    assert_denied(client.get(RULES_URL))
    assert_denied(client.get(f"{RULES_URL}add/"))
    assert_denied(client.post(f"{RULES_URL}add/", rule_data(project=scene["ours"].project_id)))
    assert_denied(client.get(f"{RULES_URL}edit/{scene['ours'].pk}/"))
    assert_denied(client.post(f"{RULES_URL}delete/{scene['ours'].pk}/"))
    assert RoutingRule.objects.count() == 3


def test_the_menu_shows_the_rules_to_whom_may_use_them(client, manager, call_agent):
    client.force_login(manager)
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    assert (desk["派单规则"], desk["统一说辞"]) == (RULES_URL, REPLIES_URL)
    client.force_login(call_agent)
    desk = sidebar_menu(client.get("/admin/"))["客服工单"]
    assert "派单规则" not in desk and desk["统一说辞"] == REPLIES_URL


@pytest.mark.parametrize("rules", [3, 30])
def test_the_rule_list_query_count_is_bounded(admin_client, project, rules, django_assert_max_num_queries):
    pool = [staff_with_perms("cases.handle_case", projects=[project], username=f"p{n}") for n in range(3)]
    department = DepartmentFactory(code="ENG", name="工程部")
    contractor = ContractorFactory(projects=[project])
    building = BuildingFactory(project=project, code="9")
    for n in range(rules):
        rule = RoutingRule.objects.create(name=f"规则{n}", project=project, building=building,
                                          category=category("daily-plumbing"), department=department,
                                          contractor=contractor)
        rule.pool.set(pool)
    with django_assert_max_num_queries(20):
        response = admin_client.get(RULES_URL)
    assert len(response.context["object_list"]) == rules


# --- Standard replies in the admin ---------------------------------------------------------------


def test_a_manager_writes_a_reply_that_goes_live_only_through_the_review(manager_client, manager):
    assert manager_client.get(REPLIES_URL).status_code == 200
    add = manager_client.get(f"{REPLIES_URL}add/")
    assert add.status_code == 200
    assert 'name="action-publish"' not in html(add)  # a manager submits; reviewers publish
    data = {"title": "漏水致歉", "kind": "repair", "category": category("daily-waterproofing").pk,
            "sort_order": "10", "text": "给您带来不便深表歉意，维修师傅将尽快联系您。"}
    response = manager_client.post(f"{REPLIES_URL}add/", {**data, "action-submit": "on"})
    assert response.status_code == 302, response.context["form"].errors
    item = StandardReply.objects.get(title="漏水致歉")
    assert not item.live
    state = WorkflowState.objects.get(object_id=str(item.pk), base_content_type__model="standardreply")
    assert state.status == WorkflowState.STATUS_IN_PROGRESS and state.workflow.name == "客服+法务审核"
    assert listed_names(manager_client.get(REPLIES_URL, {"q": "深表歉意"})) == ["漏水致歉"]
    assert listed_names(manager_client.get(REPLIES_URL, {"live": "true"})) == []
    response = manager_client.post(f"{REPLIES_URL}add/", {**data, "title": "错配", "kind": "complaint"})
    assert response.status_code == 200 and "分类与工单类型不符。" in html(response)


def test_a_call_centre_agent_reads_replies_but_may_not_write_them(client, call_agent):
    item = reply("通用致歉")
    client.force_login(call_agent)
    assert listed_names(client.get(REPLIES_URL)) == ["通用致歉"]
    assert_denied(client.get(f"{REPLIES_URL}add/"))
    assert_denied(client.post(f"{REPLIES_URL}add/", {"title": "x", "text": "y", "sort_order": "1"}))
    assert_denied(client.get(f"{REPLIES_URL}edit/{item.pk}/"))
    assert_denied(client.post(f"{REPLIES_URL}edit/{item.pk}/", {"title": "改了", "text": "y", "sort_order": "1"}))
    item.refresh_from_db()
    assert item.title == "通用致歉" and StandardReply.objects.count() == 1


@pytest.mark.parametrize("replies", [3, 40])
def test_the_reply_list_query_count_is_bounded(admin_client, replies, django_assert_max_num_queries):
    for n in range(replies):
        reply(f"说辞{n}", category=category("daily-plumbing"))
    with django_assert_max_num_queries(20):
        response = admin_client.get(REPLIES_URL)
    assert len(response.context["object_list"]) == replies

