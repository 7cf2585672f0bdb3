"""Staff scope (ARCHITECTURE.md decision 3): a staff member limited to project A sees and
touches nothing of project B on any estates admin screen — lists, inspect, edit, delete,
history, usage, copy, filters, choosers, exports and forms."""

import datetime
import json
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from estates import scope
from estates.models import (
    Building,
    Contractor,
    Department,
    Owner,
    Ownership,
    Project,
    StaffProfile,
    Trade,
    Unit,
)
from tests import factories as f
from estates.search import SEARCHERS
from tests.estates.test_admin import (
    ALL_PERMS,
    build_estate,
    csv_rows,
    listed,
    url,
    xlsx_rows,
)

SCOPED_MODELS = ("project", "building", "unit", "owner", "ownership", "contractor")
MODEL_CLASSES = {
    "project": Project,
    "building": Building,
    "unit": Unit,
    "owner": Owner,
    "ownership": Ownership,
    "contractor": Contractor,
    "department": Department,
    "trade": Trade,
}
#: What project A's staff must see on each list, and what of B they must not.
A_ROWS = {
    "project": {"阳光花园"},
    "building": {"阳光花园 3号楼", "阳光花园 12号楼"},
    "unit": {"3-1-1502", "3-1-1602", "12-2-1502"},
    "owner": {"张三丰（139****0001）", "李小龙（139****0002）", "张伟（139****5678）"},
    "ownership": {"张三丰 · 3-1-1502", "李小龙 · 3-1-1602", "张伟 · 12-2-1502"},
    "contractor": {"甲建设工程有限公司", "丙机电安装有限公司"},
}
A_MARK = {
    "project": "阳光花园",
    "building": "12号楼",
    "unit": "12-2-1502",
    "owner": "张伟",
    "ownership": "12-2-1502",
    "contractor": "甲建设工程有限公司",
}
B_TEXTS = ("湖畔雅苑", "5号楼", "5-1-1502", "张无忌", "13700000003", "乙装饰工程有限公司")


@pytest.fixture
def estate(db):
    return build_estate()


@pytest.fixture
def a_staff(estate, make_staff):
    """May do anything to the registry, but only in project A."""
    return make_staff(*ALL_PERMS, projects=[estate.a], username="a_staff")


@pytest.fixture
def a_client(client, a_staff):
    client.force_login(a_staff)
    return client


def rows(response):
    return {str(obj) for obj in listed(response)}


def assert_no_b(html):
    for text in B_TEXTS:
        assert text not in html, text


def chooser_html(response):
    assert response.status_code == 200, response.status_code
    if response["Content-Type"].startswith("application/json"):
        data = json.loads(response.content)
        return data.get("html") or ""
    return response.content.decode()


# --- The functions ------------------------------------------------------------------------------


def test_projects_for(estate, admin_user, make_staff):
    limited = make_staff(projects=[estate.a])
    everywhere = make_staff(all_projects=True)
    nowhere = f.UserFactory(is_staff=True)
    both = make_staff(projects=[estate.a, estate.b])
    assert set(scope.projects_for(admin_user)) == {estate.a, estate.b}
    assert set(scope.projects_for(everywhere)) == {estate.a, estate.b}
    assert list(scope.projects_for(limited)) == [estate.a]
    assert set(scope.projects_for(both)) == {estate.a, estate.b}
    assert list(scope.projects_for(nowhere)) == []
    assert list(scope.projects_for(AnonymousUser())) == []


def test_restrict_every_scoped_model(estate, make_staff):
    limited = make_staff(projects=[estate.a])
    for model_name, expected in A_ROWS.items():
        model = MODEL_CLASSES[model_name]
        restricted = list(scope.restrict(model.objects.all(), limited))
        assert {str(obj) for obj in restricted} == expected, model_name
        assert len(restricted) == len(expected), f"{model_name}: rows repeated"


def test_restrict_does_not_repeat_an_owner_of_two_units(estate, make_staff):
    f.OwnershipFactory(owner=estate.zhang_sanfeng, unit=estate.a_12_2_1502)
    limited = make_staff(projects=[estate.a])
    owners = list(scope.restrict(Owner.objects.all(), limited))
    assert owners.count(estate.zhang_sanfeng) == 1


def test_restrict_unrestricted_users_see_everything(estate, admin_user, make_staff):
    everywhere = make_staff(all_projects=True)
    for user in (admin_user, everywhere):
        for model_name in A_ROWS:
            model = MODEL_CLASSES[model_name]
            assert scope.restrict(model.objects.all(), user).count() == model.objects.count()


def test_restrict_no_profile_sees_nothing(estate):
    nowhere = f.UserFactory(is_staff=True)
    for model_name in A_ROWS:
        assert not scope.restrict(MODEL_CLASSES[model_name].objects.all(), nowhere).exists()


def test_departments_and_trades_are_not_project_bound(estate, make_staff):
    limited = make_staff(projects=[estate.a])
    assert list(scope.restrict(Department.objects.all(), limited)) == [estate.department]
    assert scope.restrict(Trade.objects.all(), limited).count() == Trade.objects.count() > 0
    assert scope.in_scope(estate.department, limited)


def test_a_model_without_a_scope_path_is_refused_not_let_through(estate, admin_user, make_staff):
    limited = make_staff(projects=[estate.a])
    with pytest.raises(LookupError):
        scope.restrict(StaffProfile.objects.all(), admin_user)
    with pytest.raises(LookupError):
        scope.in_scope(limited.staff_profile, limited)


def test_in_scope(estate, make_staff, admin_user):
    limited = make_staff(projects=[estate.a])
    for model_name in SCOPED_MODELS:
        assert scope.in_scope(estate.own_project_object(model_name), limited), model_name
        assert not scope.in_scope(estate.other_project_object(model_name), limited), model_name
        assert scope.in_scope(estate.other_project_object(model_name), admin_user), model_name
    # A contractor serving both projects is in scope for either.
    assert scope.in_scope(estate.ab_contractor, limited)


def test_project_ids_are_read_once_per_user_object(estate, make_staff, django_assert_num_queries):
    limited = make_staff(projects=[estate.a])
    user = type(limited).objects.get(pk=limited.pk)
    with django_assert_num_queries(2):  # the profile, then its projects
        assert scope.project_ids_for(user) == {estate.a.pk}
        assert scope.project_ids_for(user) == {estate.a.pk}
        assert list(scope.restrict(Unit.objects.none(), user)) == []


def test_register_puts_another_model_under_scope(estate, make_staff, monkeypatch):
    monkeypatch.setitem(scope.SCOPE_PATHS, StaffProfile, "projects")
    limited = make_staff(projects=[estate.a])
    b_staff = make_staff(projects=[estate.b])
    visible = scope.restrict(StaffProfile.objects.all(), limited)
    assert limited.staff_profile in visible
    assert b_staff.staff_profile not in visible


# --- Lists --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_limited_staff_list_shows_only_their_projects_rows(a_client, estate, model):
    response = a_client.get(url(model))
    assert rows(response) == A_ROWS[model]
    assert_no_b(response.content.decode())


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_superuser_and_all_projects_staff_see_every_row(client, estate, admin_user, make_staff, model):
    everywhere = make_staff(*ALL_PERMS, all_projects=True)
    for user in (admin_user, everywhere):
        client.force_login(user)
        assert len(listed(client.get(url(model)))) == MODEL_CLASSES[model].objects.count()


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_staff_without_a_profile_sees_nothing(client, estate, make_staff, model):
    nowhere = make_staff(*ALL_PERMS)
    nowhere.staff_profile.delete()
    client.force_login(type(nowhere).objects.get(pk=nowhere.pk))
    assert listed(client.get(url(model))) == []
    response = client.get(url(model, "edit", estate.own_project_object(model).pk))
    assert response.status_code in (403, 404)


def test_departments_are_listed_for_limited_staff(a_client, estate):
    assert rows(a_client.get(url("department"))) == {"客服部"}


def test_filtering_by_another_project_shows_none_of_its_rows(a_client, estate):
    response = a_client.get(url("unit"), {"project": estate.b.pk})
    assert not {str(u) for u in listed(response)} & {"5-1-1502"}
    response = a_client.get(url("unit"), {"building": estate.b5.pk})
    assert "5-1-1502" not in {str(u) for u in listed(response)}


def test_searching_does_not_reach_another_project(a_client, estate):
    assert rows(a_client.get(url("unit"), {"q": "5-1-1502"})) == set()
    assert rows(a_client.get(url("unit"), {"q": "张无忌"})) == set()
    assert rows(a_client.get(url("owner"), {"q": "13700000003"})) == set()
    assert rows(a_client.get(url("owner"), {"q": "张"})) == {"张三丰（139****0001）", "张伟（139****5678）"}


# --- Filter choices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, field",
    [
        ("unit", "project"),
        ("unit", "building"),
        ("building", "project"),
        ("owner", "project"),
        ("ownership", "project"),
        ("contractor", "projects"),
    ],
)
def test_filter_choices_hold_only_their_projects(a_client, estate, model, field):
    response = a_client.get(url(model))
    form = response.context["filters"].form
    choices = {str(obj) for obj in form.fields[field].queryset}
    assert choices
    assert not choices & {"湖畔雅苑", "湖畔雅苑 5号楼"}
    html = response.content.decode()
    assert "阳光花园" in html
    assert_no_b(html)


# --- Every object URL -------------------------------------------------------------------------

NAMESPACE_RE = re.compile(r"^wagtailsnippet(?:s|choosers)_estates_(?P<model>\w+)$")


def estates_object_urls():
    """(namespace, url name, model name) of every registered admin URL of the estates viewsets
    whose pattern takes an object's pk."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace:
                match = NAMESPACE_RE.match(namespace)
                if match and "pk" in getattr(pattern.pattern, "converters", {}):
                    found.append((namespace, pattern.name, match["model"]))

    walk(get_resolver().url_patterns, None)
    return found


def test_the_url_walk_finds_every_object_view():
    found = {(model, name) for _, name, model in estates_object_urls()}
    for model in SCOPED_MODELS:
        for name in ("edit", "delete", "usage", "history", "history_results", "copy", "inspect", "chosen"):
            assert (model, name) in found, (model, name)


def test_every_admin_model_declares_its_scope():
    """A new estates model with admin URLs must say whether it is project-bound."""
    models = {model for _, _, model in estates_object_urls()}
    assert models >= set(SCOPED_MODELS)
    for model in models:
        assert MODEL_CLASSES[model] in scope.SCOPE_PATHS, model


def test_every_object_url_answers_404_for_another_projects_object(a_client, estate):
    checked = 0
    for namespace, name, model in estates_object_urls():
        if scope.SCOPE_PATHS[MODEL_CLASSES[model]] is None:
            continue  # departments, trades: not project-bound
        own = reverse(f"{namespace}:{name}", kwargs={"pk": estate.own_project_object(model).pk})
        other = reverse(f"{namespace}:{name}", kwargs={"pk": estate.other_project_object(model).pk})
        assert a_client.get(own).status_code == 200, own  # the URL works for A's object …
        response = a_client.get(other)
        assert response.status_code in (403, 404), (other, response.status_code)  # … not B's
        if "choosers" not in namespace:
            response = a_client.post(other, {})
            assert response.status_code in (403, 404), (other, "POST", response.status_code)
        checked += 1
    assert checked >= len(SCOPED_MODELS) * 8


def test_nothing_of_another_project_changed_through_the_urls(a_client, estate):
    other = {model: estate.other_project_object(model) for model in SCOPED_MODELS}
    for model, obj in other.items():
        a_client.post(url(model, "delete", obj.pk))
    a_client.post(url("unit", "edit", estate.b_5_1_1502.pk), {"building": estate.a3.pk, "number": "1", "handover_status": "pending"})
    for model, obj in other.items():
        assert type(obj).objects.filter(pk=obj.pk).exists(), model
    estate.b_5_1_1502.refresh_from_db()
    assert (estate.b_5_1_1502.label, estate.b_5_1_1502.project) == ("5-1-1502", estate.b)


# --- Choosers -----------------------------------------------------------------------------------


def test_every_scoped_model_has_a_searcher():
    """The scoped chooser searches through estates.search.SEARCHERS (its fallback named an
    attribute no model has: a 500 on searching the project chooser)."""
    for model in SCOPED_MODELS:
        assert MODEL_CLASSES[model] in SEARCHERS, model


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_chooser_lists_only_their_projects(a_client, estate, model):
    html = chooser_html(a_client.get(f"/admin/snippets/choose/estates/{model}/"))
    assert A_MARK[model] in html
    assert_no_b(html)


def test_a_linked_field_narrows_the_unit_and_owner_choosers(admin_client, estate):
    """A form's chooser linked to its project or unit field (interviews) opens narrowed to it;
    the narrowing survives a search and never widens the scope."""
    choose = "/admin/snippets/choose/estates/{}/"
    html = chooser_html(admin_client.get(choose.format("unit"), {"project": estate.b.pk}))
    assert "5-1-1502" in html and "3-1-1502" not in html and "12-2-1502" not in html
    html = chooser_html(admin_client.get(choose.format("unit") + "results/", {"project": estate.a.pk, "q": "1502"}))
    assert "3-1-1502" in html and "12-2-1502" in html and "5-1-1502" not in html
    html = chooser_html(admin_client.get(choose.format("owner"), {"unit": estate.a_3_1_1602.pk}))
    assert "李小龙" in html and "张三丰" not in html and "张无忌" not in html
    html = chooser_html(admin_client.get(choose.format("owner"), {"project": estate.b.pk}))
    assert "张无忌" in html and "张三丰" not in html
    # A sold unit's former owner is not offered for it.
    estate.a_ownership.end = estate.a_ownership.start or datetime.date(2026, 1, 1)
    estate.a_ownership.save()
    html = chooser_html(admin_client.get(choose.format("owner"), {"unit": estate.a_3_1_1502.pk}))
    assert "张三丰" not in html


@pytest.mark.parametrize("value", ["abc", "-1", "１", ""])
def test_a_linked_filter_that_is_not_a_number_is_ignored(admin_client, estate, value):
    html = chooser_html(admin_client.get("/admin/snippets/choose/estates/unit/", {"project": value}))
    assert "3-1-1502" in html and "5-1-1502" in html


def test_the_linked_filter_stays_inside_the_users_projects(a_client, estate):
    html = chooser_html(a_client.get("/admin/snippets/choose/estates/unit/", {"project": estate.b.pk}))
    assert "5-1-1502" not in html and "3-1-1502" not in html


@pytest.mark.parametrize(
    "model, query, expected",
    [
        ("unit", "1502", "3-1-1502"),
        ("owner", "张", "张三丰"),
        ("owner", "1370000", None),
        ("building", "号楼", "3号楼"),
        ("project", "花园", "阳光花园"),
        ("project", "雅苑", None),
        ("ownership", "1502", "3-1-1502"),
        ("ownership", "3-1", "3-1-1602"),
        ("contractor", "公司", "甲建设工程有限公司"),
    ],
)
def test_chooser_search_stays_in_their_projects(a_client, estate, model, query, expected):
    response = a_client.get(f"/admin/snippets/choose/estates/{model}/results/", {"q": query})
    html = chooser_html(response)
    if expected:
        assert expected in html
    assert_no_b(html)


def test_chooser_chosen_refuses_another_projects_object(a_client, estate):
    assert a_client.get(f"/admin/snippets/choose/estates/unit/chosen/{estate.a_3_1_1502.pk}/").status_code == 200
    assert a_client.get(f"/admin/snippets/choose/estates/unit/chosen/{estate.b_5_1_1502.pk}/").status_code == 404


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_chooser_chosen_multiple_leaves_out_another_projects_objects(a_client, estate, model):
    own, other = estate.own_project_object(model), estate.other_project_object(model)
    response = a_client.get(
        f"/admin/snippets/choose/estates/{model}/chosen-multiple/", {"id": [own.pk, other.pk]}
    )
    assert response.status_code in (200, 403, 404)
    if response.status_code == 200:
        ids = {item["id"] for item in json.loads(response.content)["result"]}
        assert str(other.pk) not in ids
        assert ids == {str(own.pk)}


# --- Forms --------------------------------------------------------------------------------------


def test_cannot_create_a_building_in_another_project(a_client, estate):
    response = a_client.post(url("building", "add"), {"project": estate.b.pk, "code": "9", "name": "9号楼", "floors": ""})
    assert response.status_code == 200
    assert "project" in response.context["form"].errors
    assert not Building.objects.filter(code="9").exists()


def test_can_create_a_building_in_their_project(a_client, estate):
    response = a_client.post(url("building", "add"), {"project": estate.a.pk, "code": "9", "name": "9号楼", "floors": ""})
    assert response.status_code == 302
    assert Building.objects.get(code="9").project == estate.a


UNIT_FORM = {"entrance": "9", "floor": "9", "number": "901", "area": "", "layout": "", "delivery_batch": "", "handover_status": "pending", "handover_date": ""}


def test_cannot_create_a_unit_in_another_project(a_client, estate):
    response = a_client.post(url("unit", "add"), {**UNIT_FORM, "building": estate.b5.pk})
    assert response.status_code == 200
    assert "building" in response.context["form"].errors
    assert not Unit.objects.filter(number="901").exists()


def test_cannot_move_a_unit_into_another_project(a_client, estate):
    unit = estate.a_3_1_1502
    response = a_client.post(url("unit", "edit", unit.pk), {**UNIT_FORM, "building": estate.b5.pk})
    assert response.status_code == 200
    assert "building" in response.context["form"].errors
    unit.refresh_from_db()
    assert unit.project == estate.a


@pytest.mark.parametrize(
    "model, field, expected",
    [
        ("building", "project", {"阳光花园"}),
        ("unit", "building", {"阳光花园 3号楼", "阳光花园 12号楼"}),
        ("ownership", "unit", {"3-1-1502", "3-1-1602", "12-2-1502"}),
        ("ownership", "owner", A_ROWS["owner"]),
        ("contractor", "projects", {"阳光花园"}),
    ],
)
@pytest.mark.parametrize("action", ["add", "edit"])
def test_form_choices_hold_only_their_projects(a_client, estate, model, field, expected, action):
    target = url(model, "add") if action == "add" else url(model, "edit", estate.own_project_object(model).pk)
    response = a_client.get(target)
    assert response.status_code == 200
    form = response.context["form"]
    assert {str(obj) for obj in form.fields[field].queryset} == expected
    assert_no_b(response.content.decode())


def test_cannot_link_an_owner_to_another_projects_unit(a_client, estate):
    response = a_client.post(url("ownership", "add"), {"owner": estate.zhang_sanfeng.pk, "unit": estate.b_5_1_1502.pk, "start": "", "end": "", "is_primary": "on"})
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not Ownership.objects.filter(owner=estate.zhang_sanfeng, unit=estate.b_5_1_1502).exists()


def test_cannot_assign_a_contractor_to_another_project(a_client, estate):
    response = a_client.post(url("contractor", "add"), {"name": "戊公司", "contact_name": "", "contact_mobile": "", "warranty_deposit": "0", "projects": [estate.b.pk], "remark": ""})
    assert response.status_code == 200
    assert "projects" in response.context["form"].errors
    assert not Contractor.objects.filter(name="戊公司").exists()


def test_editing_a_shared_contractor_keeps_the_projects_the_staff_cannot_see(a_client, estate):
    """A contractor serving A and B, edited by A's staff (who are offered only A), still
    serves B afterwards: scope hides B, it must not erase it."""
    contractor = estate.ab_contractor
    response = a_client.post(
        url("contractor", "edit", contractor.pk),
        {"name": contractor.name, "contact_name": "新联系人", "contact_mobile": "", "warranty_deposit": "0", "active": "on", "projects": [estate.a.pk], "remark": ""},
    )
    assert response.status_code == 302
    contractor.refresh_from_db()
    assert contractor.contact_name == "新联系人"
    assert set(contractor.projects.all()) == {estate.a, estate.b}


# --- Exports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCOPED_MODELS)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_holds_no_row_of_another_project(a_client, estate, model, fmt):
    response = a_client.get(url(model), {"export": fmt})
    table = xlsx_rows(response) if fmt == "xlsx" else csv_rows(response)
    assert len(table) - 1 == len(A_ROWS[model])
    text = "\n".join(",".join(str(cell) for cell in row if cell is not None) for row in table)
    assert A_MARK[model] in text
    # 丙 serves both projects and lists both; every other B text is absent.
    for needle in B_TEXTS:
        if model == "contractor" and needle == "湖畔雅苑":
            continue
        assert needle not in text, needle


def test_export_ignores_a_filter_on_another_project(a_client, estate):
    table = xlsx_rows(a_client.get(url("unit"), {"project": estate.b.pk, "export": "xlsx"}))
    assert all("湖畔雅苑" not in (row[0] or "") for row in table[1:])


def test_an_owner_with_no_unit_yet_stays_visible_to_limited_staff(db, make_staff):
    from estates.models import Owner
    from estates.scope import restrict

    project_a, project_b = f.ProjectFactory(), f.ProjectFactory()
    staff = make_staff("estates.view_owner", projects=[project_a])
    new_owner = f.OwnerFactory(name="新登记业主")
    other = f.OwnershipFactory(unit=f.UnitFactory(building=f.BuildingFactory(project=project_b))).owner
    visible = set(restrict(Owner.objects.all(), staff))
    assert new_owner in visible
    assert other not in visible


def test_limited_staff_cannot_open_the_staff_scope_screen(client, make_staff):
    project = f.ProjectFactory()
    limited = make_staff("estates.view_staffprofile", "estates.change_staffprofile", projects=[project])
    client.force_login(limited)
    assert client.get("/admin/staff_profiles/").status_code in (302, 403)
    profile = limited.staff_profile
    response = client.post(f"/admin/staff_profiles/edit/{profile.pk}/", {"user": limited.pk, "all_projects": "on"})
    assert response.status_code in (302, 403)
    profile.refresh_from_db()
    assert profile.all_projects is False
    unrestricted = make_staff("estates.view_staffprofile", "estates.change_staffprofile", all_projects=True)
    client.force_login(unrestricted)
    assert client.get("/admin/staff_profiles/").status_code == 200


@pytest.mark.parametrize("model", ["project", "building", "unit", "owner", "ownership", "contractor"])
def test_chooser_create_endpoint_answers_404_not_500(admin_client, model):
    response = admin_client.post(f"/admin/snippets/choose/estates/{model}/create/", {"name": "x"})
    assert response.status_code == 404
