"""来电登记 (/admin/cases/intake/, plugins/cases/intake.py and intake_views.py): the call-centre
agent's look-up by mobile, owner name or unit label, through the Django test client."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from estates.models import Ownership
from plugins.cases import intake
from plugins.cases.models import Case, CaseEvent, Category
from tests.conftest import sidebar_menu, staff_with_perms
from tests.factories import BuildingFactory, OwnerFactory, OwnershipFactory, UnitFactory

from .conftest import ALL_VERBS, MOBILE
from .test_admin import assert_denied, html

URL = "/admin/cases/intake/"


def days_ago(n):
    return timezone.now() - dt.timedelta(days=n)


@pytest.fixture
def other_repair_category(plumbing):
    return Category.objects.filter(kind="repair", active=True).exclude(pk=plumbing.pk).first()


def get(client, q=None, **params):
    if q is not None:
        params["q"] = q
    return client.get(URL, params)


def shown_numbers(response):
    return sorted(row["case"].number for row in response.context["rows"])


# --- Access and menu ----------------------------------------------------------------------------


def test_menu_item_for_agents_who_may_register_only(client, agent, project):
    client.force_login(agent)
    response = client.get("/admin/")
    assert sidebar_menu(response)["来电登记"] == URL

    viewer = staff_with_perms("cases.view_case", projects=[project], username="viewer")
    client.force_login(viewer)
    assert "来电登记" not in sidebar_menu(client.get("/admin/"))
    assert_denied(client.get(URL, {"q": MOBILE}))
    assert_denied(client.post(reverse("cases_intake_add_call", args=(1,)), {"text": "x"}))


def test_empty_form_without_a_query(agent_client):
    response = agent_client.get(URL)
    assert response.status_code == 200
    assert response.context["result"] is None
    assert 'name="q"' in html(response) and "来电号码 / 业主姓名 / 房号" in html(response)


# --- Look-ups -----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [MOBILE, "+86 139 0000 0001", "139-0000-0001", "0086 13900000001",
                                   "+86-139-0000-0001", "８６１３９００００００01"])
def test_a_mobile_in_any_common_form_finds_the_owner_and_their_cases(agent_client, owner, home, new_case, agent,
                                                                     typed):
    from plugins.cases import services

    old_open = new_case(unit=home, when=days_ago(200))  # open: shown however old
    recent_closed = services.cancel(new_case(unit=home, when=days_ago(10)), agent, "重复登记")  # in 90 days
    old_closed = services.cancel(new_case(unit=home, when=days_ago(120)), agent, "重复登记")  # not shown
    new_case()  # another unit, another caller: not shown
    response = get(agent_client, typed)
    assert response.status_code == 200
    result = response.context["result"]
    assert result.kind == "mobile" and result.mobile == MOBILE
    assert [row["owner"] for row in result.owners] == [owner]
    assert result.owners[0]["units"] == [home]
    assert shown_numbers(response) == sorted([old_open.number, recent_closed.number])
    assert old_closed.number not in html(response)
    page = html(response)
    assert "王芳" in page and "3-2-1502" in page
    assert reverse("wagtailsnippets_cases_case:inspect", args=(old_open.pk,)) in page
    assert "已登记" in page and "已取消" in page and "报修" in page


def test_only_current_units_are_shown(agent_client, owner, building):
    sold = UnitFactory(building=building, entrance="1", number="801")
    OwnershipFactory(owner=owner, unit=sold, end=dt.date(2025, 1, 1))
    result = get(agent_client, MOBILE).context["result"]
    assert [unit.label for unit in result.owners[0]["units"]] == ["3-2-1502"]


def test_an_owners_name_finds_them_by_exact_name_or_its_start(agent_client, owner):
    for typed in ("王芳", "王", " 王芳 "):
        result = get(agent_client, typed).context["result"]
        assert result.kind == "name"
        assert [row["owner"] for row in result.owners] == [owner], typed


def test_a_unit_label_finds_its_owners_and_cases_and_picks_the_unit(agent_client, owner, home, new_case):
    case = new_case(unit=home, reporter_mobile="13700000000", reporter_name="租户李先生")
    response = get(agent_client, "3-2-1502")
    result = response.context["result"]
    assert result.kind == "unit" and result.units == [home] and result.picked_unit == home
    assert [row["owner"] for row in result.owners] == [owner]
    assert shown_numbers(response) == [case.number]


def test_a_unit_without_owner_still_shows_its_cases(agent_client, home, new_case):
    case = new_case(unit=home)
    response = get(agent_client, "3-2-1502")
    assert response.context["result"].owners == []
    assert "该房号目前没有登记业主" in html(response)
    assert shown_numbers(response) == [case.number]


def test_an_unknown_number_says_so_and_shows_the_callers_earlier_calls(agent_client, owner, new_case):
    earlier = new_case(reporter_mobile="13700000000", reporter_name="租户李先生")
    response = get(agent_client, "137 0000 0000")
    assert response.status_code == 200
    result = response.context["result"]
    assert result.unknown_number and result.owners == []
    assert "未知号码" in html(response) and "报事人" in html(response)
    assert shown_numbers(response) == [earlier.number]  # the caller reported before, not as an owner


@pytest.mark.parametrize("typed", ["139 0000", "1390000", "139-0000-00"])
def test_a_partial_mobile_of_seven_digits_is_a_prefix(agent_client, owner, typed):
    result = get(agent_client, typed).context["result"]
    assert result.kind == "mobile_prefix" and [row["owner"] for row in result.owners] == [owner]


@pytest.mark.parametrize("typed, words", [
    ("", "请输入来电号码、业主姓名或房号"),
    ("   ", "请输入来电号码、业主姓名或房号"),
    ("139", "太短"),
    ("1502", "太短"),
    ("12345678901", "不是有效的手机号"),
    ("139000000011234", "位数太多"),
    ("%%'; DROP TABLE--", "无法识别"),
    ("<script>", "无法识别"),
    ("x" * 60, "输入过长"),
])
def test_bad_input_gets_a_chinese_message_and_a_400(agent_client, owner, typed, words):
    response = get(agent_client, typed)
    assert response.status_code == 400
    assert words in response.context["result"].error
    assert words in html(response)
    if typed == "<script>":  # what was typed is shown escaped, in the message and the box
        assert "“&lt;script&gt;”" in html(response) and 'value="&lt;script&gt;"' in html(response)
        assert "“<script>”" not in html(response) and 'value="<script>"' not in html(response)


def test_a_unit_that_does_not_exist_says_so(agent_client, owner):
    response = get(agent_client, "3-9-9999")
    assert response.status_code == 200
    assert "没有找到房号“3-9-9999”" in html(response)
    assert response.context["rows"] == []


@pytest.mark.parametrize("params", [{"unit": "abc"}, {"category": "x'"}, {"unit": "99999999999999999999999"},
                                    {"category": "-1"}])
def test_garbage_in_the_other_parameters_is_ignored(agent_client, owner, params):
    response = get(agent_client, MOBILE, **params)
    assert response.status_code == 200
    assert [row["owner"] for row in response.context["result"].owners] == [owner]


def test_a_name_nobody_has_says_so(agent_client, owner):
    response = get(agent_client, "赵无名")
    assert response.status_code == 200
    assert "没有找到匹配的业主" in html(response)


# --- Scope --------------------------------------------------------------------------------------


@pytest.fixture
def elsewhere(other_project):
    """An owner of SH02 (another project) with a case there, reported from their mobile."""
    from plugins.cases import services

    unit = UnitFactory(building=BuildingFactory(project=other_project, code="7"), entrance="1", number="701")
    stranger = OwnerFactory(name="王强", mobile="13600000006")
    OwnershipFactory(owner=stranger, unit=unit)
    boss = staff_with_perms(*ALL_VERBS, all_projects=True, username="boss")
    case = services.register(boss, kind="repair", channel="hotline", project=other_project, unit=unit,
                             reporter_name="王强", reporter_mobile="13600000006", description="外窗渗水")
    return {"unit": unit, "owner": stranger, "case": case, "boss": boss}


def test_limited_staff_never_see_another_projects_owners_or_cases(agent_client, owner, elsewhere):
    for typed in ("13600000006", "136 0000 000", "王强"):
        response = get(agent_client, typed)
        assert response.status_code == 200
        assert response.context["result"].owners == [], typed
        assert elsewhere["case"].number not in html(response), typed
        assert "王强" not in html(response).replace(f'value="{typed}"', "")
    # By name prefix: this project's 王芳 only.
    assert [row["owner"] for row in get(agent_client, "王").context["result"].owners] == [owner]
    # Their unit does not exist for this agent.
    response = get(agent_client, "7-1-701")
    assert "没有找到房号" in html(response) and elsewhere["case"].number not in html(response)
    # And a note cannot be posted to their case.
    response = agent_client.post(reverse("cases_intake_add_call", args=(elsewhere["case"].pk,)),
                                 {"text": "又漏了"})
    assert response.status_code == 404
    assert not CaseEvent.objects.filter(case=elsewhere["case"], verb="note").exists()


def test_staff_of_all_projects_see_both(client, owner, elsewhere):
    client.force_login(elsewhere["boss"])
    result = get(client, "王").context["result"]
    assert {row["owner"].name for row in result.owners} == {"王芳", "王强"}


# --- Possible duplicate and "add this call to it" -----------------------------------------------


def test_an_open_case_of_the_picked_unit_and_category_is_a_possible_duplicate(
        agent_client, owner, home, building, new_case, plumbing, other_repair_category, agent):
    from plugins.cases import services

    same = new_case(unit=home, category=plumbing)
    other_kind = new_case(unit=home, category=other_repair_category)
    closed_same = services.cancel(new_case(unit=home, category=plumbing, when=days_ago(5)), agent, "误登")
    next_door = UnitFactory(building=building, entrance="2", number="1503")
    OwnershipFactory(owner=owner, unit=next_door)
    neighbour = new_case(unit=next_door, category=plumbing)

    # No category picked: no marker.
    response = get(agent_client, MOBILE, unit=home.pk)
    assert not any(row["duplicate"] for row in response.context["rows"])
    assert 'class="intake-duplicate"' not in html(response)

    response = get(agent_client, MOBILE, unit=home.pk, category=plumbing.pk)
    duplicates = [row["case"] for row in response.context["rows"] if row["duplicate"]]
    assert duplicates == [same]
    assert other_kind.number in html(response) and neighbour.number in html(response)
    assert closed_same.number in html(response)
    assert 'class="intake-duplicate"' in html(response) and "记入此工单" in html(response)

    # Without a picked unit (a mobile matching two units): no marker either.
    response = get(agent_client, MOBILE, category=plumbing.pk)
    assert not any(row["duplicate"] for row in response.context["rows"])

    # A unit label picks its unit by itself.
    response = get(agent_client, "3-2-1502", category=plumbing.pk)
    assert [row["case"] for row in response.context["rows"] if row["duplicate"]] == [same]


def test_adding_the_call_to_the_open_case_writes_a_note_through_the_service(
        agent_client, owner, home, new_case, plumbing):
    case = new_case(unit=home, category=plumbing)
    before = case.history.count()
    response = agent_client.post(reverse("cases_intake_add_call", args=(case.pk,)), {
        "text": "业主再次来电：漏水加重，楼下也湿了", "q": MOBILE, "unit": home.pk, "category": plumbing.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(URL) and f"category={plumbing.pk}" in response["Location"]
    note = CaseEvent.objects.get(case=case, verb="note")
    assert "漏水加重，楼下也湿了" in note.text and note.actor_user.username == "agent"
    assert case.history.count() == before  # a note changes no field of the case
    page = html(agent_client.get(response["Location"]))
    assert f"已将本次来电记入工单 {case.number}" in page


def test_adding_an_empty_call_or_without_permission_changes_nothing(client, agent_client, owner, home, new_case,
                                                                    plumbing, project):
    case = new_case(unit=home, category=plumbing)
    response = agent_client.post(reverse("cases_intake_add_call", args=(case.pk,)), {"text": "  ", "q": MOBILE})
    assert response.status_code == 302
    assert "请填写来电内容" in html(agent_client.get(response["Location"]))
    assert not CaseEvent.objects.filter(case=case, verb="note").exists()

    registrar = staff_with_perms("cases.add_case", "cases.view_case", projects=[project], username="registrar")
    client.force_login(registrar)
    page = html(get(client, MOBILE, unit=home.pk, category=plumbing.pk))
    assert 'class="intake-duplicate"' in page and "记入此工单" not in page  # no handle_case: marker only
    response = client.post(reverse("cases_intake_add_call", args=(case.pk,)), {"text": "又漏了", "q": MOBILE})
    assert response.status_code == 302
    assert "没有执行此操作的权限" in html(client.get(response["Location"]))
    assert not CaseEvent.objects.filter(case=case, verb="note").exists()


def test_add_call_only_posts(agent_client, owner, home, new_case):
    case = new_case(unit=home)
    assert agent_client.get(reverse("cases_intake_add_call", args=(case.pk,))).status_code == 405


# --- Bounded queries ----------------------------------------------------------------------------

MAX_QUERIES = 15


def _owner_with(building, n_units, n_cases, mobile, name, register):
    owner = OwnerFactory(name=name, mobile=mobile)
    units = [UnitFactory(building=building, entrance="9", number=f"{mobile[-4:]}{i:02d}") for i in range(n_units)]
    for unit in units:
        OwnershipFactory(owner=owner, unit=unit)
    for i in range(n_cases):
        register(unit=units[i % n_units], reporter_mobile=mobile, when=days_ago(i % 60))
    return owner, units


def _count(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("query", ["mobile", "name", "unit", "category"])
def test_queries_do_not_grow_with_units_or_cases(agent_client, building, new_case, plumbing,
                                                 django_assert_max_num_queries, query):
    def register(**fields):
        return new_case(category=plumbing, **fields)

    small, small_units = _owner_with(building, 1, 1, "13800000011", "陈小", register)
    large, large_units = _owner_with(building, 10, 30, "13800000022", "林大", register)

    def params(owner, units):
        return {"mobile": {"q": owner.mobile}, "name": {"q": owner.name}, "unit": {"q": units[0].label},
                "category": {"q": owner.mobile, "unit": units[0].pk, "category": plumbing.pk}}[query]

    get(agent_client, "warm-up 预热")  # the first admin page of a session caches the menu counts
    small_count, small_response = _count(agent_client, **params(small, small_units))
    large_count, large_response = _count(agent_client, **params(large, large_units))
    assert len(small_response.context["rows"]) == 1
    assert len(large_response.context["rows"]) == (30 if query != "unit" else 3)
    if query in ("mobile", "name", "category"):
        assert len(large_response.context["result"].owners[0]["units"]) == 10
    assert small_count == large_count
    with django_assert_max_num_queries(MAX_QUERIES):
        agent_client.get(URL, params(large, large_units))


def test_the_lists_are_capped(agent_client, building, new_case):
    for i in range(intake.MAX_OWNERS + 2):
        OwnershipFactory(owner=OwnerFactory(name=f"周{i:02d}", mobile=f"1350000{i:04d}"),
                         unit=UnitFactory(building=building, entrance="5", number=f"5{i:02d}"))
    response = get(agent_client, "周")
    result = response.context["result"]
    assert len(result.owners) == intake.MAX_OWNERS and result.more_owners
    assert "只显示前 20 位" in html(response)


# --- Indexed look-ups ---------------------------------------------------------------------------


def query_plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("model_field, prefix", [("owner.mobile", "1390000"), ("owner.name", "王"),
                                                 ("unit.label", "3-2-15")])
def test_prefix_lookups_are_served_by_an_index(db, model_field, prefix):
    from estates.models import Owner, Unit

    model, field = {"owner": Owner, "unit": Unit}[model_field.split(".")[0]], model_field.split(".")[1]
    plan = query_plan(model.objects.filter(intake.prefix_q(field, prefix)).order_by().values("pk"))
    table = model._meta.db_table
    if connection.vendor == "sqlite":
        # SEARCH (a range of the index), never SCAN (every row, even "USING INDEX"): a plain
        # startswith is "SCAN estates_owner USING INDEX …" on SQLite.
        assert f"SEARCH {table} USING" in plan and "SCAN" not in plan, plan
    else:
        assert "Index Cond" in plan and "Seq Scan" not in plan, plan


def test_the_cases_query_reads_by_unit_and_mobile_indexes(db):
    since = timezone.now() - dt.timedelta(days=intake.RECENT_DAYS)
    from django.db.models import Q

    from plugins.cases.models.choices import OPEN_STATUSES

    queryset = (Case.objects.filter(Q(unit_id__in=[1, 2, 3]) | Q(reporter_mobile=MOBILE))
                .filter(Q(status__in=OPEN_STATUSES) | Q(registered_at__gte=since)).values("pk"))
    plan = query_plan(queryset)
    if connection.vendor == "sqlite":
        assert "SEARCH cases_case USING" in plan and "SCAN" not in plan, plan
    else:
        assert "Index Cond" in plan and "Seq Scan on cases_case" not in plan, plan


def test_read_classifies_what_was_typed():
    assert intake.read("+86 138-0013-8000")[:2] == ("mobile", "13800138000")
    assert intake.read("3 - 2 - 1502")[:2] == ("unit", "3-2-1502")
    assert intake.read("A-1-101")[:2] == ("unit", "A-1-101")
    assert intake.read("王 芳")[:2] == ("name", "王 芳")
    assert intake.read("1380013")[:2] == ("mobile_prefix", "1380013")
    assert intake.read("123")[2]
    assert Ownership  # imported for the fixtures' models


def test_an_owner_of_both_projects_shows_only_this_projects_units_and_cases(agent_client, owner, home, elsewhere,
                                                                          new_case):
    from plugins.cases import services

    OwnershipFactory(owner=owner, unit=elsewhere["unit"])
    theirs = services.register(elsewhere["boss"], kind="repair", channel="hotline", project=elsewhere["unit"].project,
                               unit=elsewhere["unit"], reporter_name="王芳", reporter_mobile=MOBILE,
                               description="外窗渗水")
    mine = new_case(unit=home, reporter_mobile=MOBILE)
    response = get(agent_client, MOBILE)
    result = response.context["result"]
    assert [row["owner"] for row in result.owners] == [owner]
    assert result.owners[0]["units"] == [home]
    assert shown_numbers(response) == [mine.number]
    assert theirs.number not in html(response) and "7-1-701" not in html(response)
