"""批量派单 on the case list (Wagtail's bulk actions, /admin/bulk/cases/case/dispatch/): every
selected case is dispatched through services.dispatch with its own event and history row;
cases that cannot be dispatched or lie outside the user's projects are reported and left alone;
choices follow the user's scope; only staff who may dispatch; bounded queries. And Wagtail's bulk
delete never names another project's case or SLA policy."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from plugins.cases import bulk_actions, services
from plugins.cases.models import Case, CaseEvent, SLAPolicy, Status
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, ContractorFactory, DepartmentFactory, UnitFactory
from tests.plugins.cases.conftest import ALL_VERBS
from tests.plugins.cases.test_admin import LIST_URL, advance, assert_denied, html
from tests.plugins.cases.test_admin import messages_of as raw_messages

BULK_URL = "/admin/bulk/cases/case/dispatch/"


def bulk_url(*cases, **params):
    query = "&".join([f"id={case.pk}" for case in cases] + [f"{key}={value}" for key, value in params.items()])
    return f"{BULK_URL}?{query}&next={LIST_URL}"


@pytest.fixture
def dispatcher(project):
    """A dispatcher of 钱塘雅苑 (HZ01): may see, handle and dispatch its cases."""
    return staff_with_perms("cases.view_case", "cases.handle_case", "cases.dispatch_case", projects=[project],
                            username="dispatcher")


@pytest.fixture
def d_client(client, dispatcher):
    client.force_login(dispatcher)
    return client


@pytest.fixture
def team(project, other_project, agent):
    """The options: a department; a contractor and a worker of HZ01; one of SH02 only."""
    return {
        "department": DepartmentFactory(code="ENG", name="工程部"),
        "contractor": ContractorFactory(name="甲装饰工程有限公司", projects=[project]),
        "their_contractor": ContractorFactory(name="乙装饰工程有限公司", projects=[other_project]),
        "worker": staff_with_perms("cases.handle_case", projects=[project], username="hz-worker"),
        "their_worker": staff_with_perms("cases.handle_case", projects=[other_project], username="sh-worker"),
    }


@pytest.fixture
def theirs(other_project):
    other_agent = staff_with_perms(*ALL_VERBS, projects=[other_project], username="other-agent")
    unit = UnitFactory(building=BuildingFactory(project=other_project, code="5", name="5号楼"))
    return services.register(other_agent, kind="repair", channel="hotline", project=other_project, unit=unit,
                             reporter_name="张先生", reporter_mobile="13700137000", description="外墙渗水")


def messages_of(response):
    return [message.strip() for message in raw_messages(response)]


def dispatch_events(case):
    return list(case.events.filter(verb="dispatch"))


def test_the_case_list_offers_bulk_dispatch(d_client, new_case):
    """In the footer of Wagtail's bulk actions under the list."""
    new_case()
    page = html(d_client.get(LIST_URL))
    assert BULK_URL in page and "批量派单" in page


def test_each_selected_case_is_dispatched_through_the_service(d_client, dispatcher, new_case, team):
    cases = [new_case() for _ in range(3)]
    response = d_client.get(bulk_url(*cases))
    assert response.status_code == 200
    page = html(response)
    assert "批量派单" in page and all(case.number in page for case in cases)
    response = d_client.post(bulk_url(*cases), {"department": team["department"].pk,
                                                 "assignee": team["worker"].pk, "note": "统一安排"})
    assert response.status_code == 302 and response["Location"] == LIST_URL
    for case in cases:
        case.refresh_from_db()
        assert case.status == Status.DISPATCHED
        assert (case.department, case.assignee, case.contractor) == (team["department"], team["worker"], None)
        [event] = dispatch_events(case)
        assert (event.actor_user, event.text) == (dispatcher, "统一安排")
        latest = case.history.first()
        assert (latest.history_user, latest.history_change_reason) == (dispatcher, "派单")
    assert "已派单 3 条工单。" in messages_of(d_client.get(LIST_URL))


def test_cases_that_cannot_be_dispatched_are_named_and_left_alone(d_client, agent, new_case, team):
    ready = new_case()
    closed = advance(new_case(), agent, Status.CLOSED)
    cancelled = advance(new_case(), agent, Status.CANCELLED)
    page = html(d_client.get(bulk_url(ready, closed, cancelled)))
    assert f"{closed.number}（已关闭）" in page and f"{cancelled.number}（已取消）" in page
    events_before = CaseEvent.objects.count()
    d_client.post(bulk_url(ready, closed, cancelled), {"department": team["department"].pk})
    ready.refresh_from_db(), closed.refresh_from_db(), cancelled.refresh_from_db()
    assert (ready.status, closed.status, cancelled.status) == (Status.DISPATCHED, Status.CLOSED, Status.CANCELLED)
    assert CaseEvent.objects.count() == events_before + 1
    shown = messages_of(d_client.get(LIST_URL))
    assert "已派单 1 条工单。" in shown
    assert f"2 条工单未派单：{closed.number}（已关闭）；{cancelled.number}（已取消）。" in shown


def test_a_case_changed_meanwhile_is_refused_by_the_service_and_reported(d_client, agent, new_case, team,
                                                                          monkeypatch):
    ready, closed = new_case(), advance(new_case(), agent, Status.CLOSED)
    events_before = closed.events.count()
    # As if ``closed`` were still open when the page was read: the service has the last word.
    monkeypatch.setattr(bulk_actions.services, "possible", lambda verb, case: True)
    d_client.post(bulk_url(ready, closed), {"department": team["department"].pk})
    closed.refresh_from_db()
    assert closed.status == Status.CLOSED and closed.events.count() == events_before
    shown = " ".join(messages_of(d_client.get(LIST_URL)))
    assert "已派单 1 条工单。" in shown
    assert f"1 条工单未派单：{closed.number}（工单 {closed.number} 当前状态为“已关闭”，不能派单。）" in shown


def test_another_projects_cases_are_counted_never_named_or_touched(d_client, new_case, theirs, team):
    mine = new_case()
    page = html(d_client.get(bulk_url(mine, theirs)))
    assert mine.number in page and theirs.number not in page and "浦江云庭" not in page
    assert "另有 1 条工单不存在或不在您负责的项目内" in page
    d_client.post(bulk_url(mine, theirs), {"department": team["department"].pk})
    theirs.refresh_from_db()
    assert theirs.status == Status.REGISTERED and not dispatch_events(theirs)
    shown = " ".join(messages_of(d_client.get(LIST_URL)))
    assert "另有 1 条工单不存在或不在您负责的项目内，未处理。" in shown and theirs.number not in shown
    # Only another project's cases: nothing to do, nothing named.
    page = html(d_client.get(bulk_url(theirs)))
    assert theirs.number not in page and 'type="submit"' not in page


def test_choices_hold_only_what_serves_the_cases_projects(d_client, new_case, team):
    form = d_client.get(bulk_url(new_case())).context["form"]
    contractors = [label for _value, label in form.fields["contractor"].choices]
    assignees = [label for _value, label in form.fields["assignee"].choices]
    assert "甲装饰工程有限公司" in contractors and "乙装饰工程有限公司" not in contractors
    assert "hz-worker" in assignees and "sh-worker" not in assignees
    assert "工程部" in [label for _value, label in form.fields["department"].choices]


def test_across_projects_only_shared_contractors_and_staff_are_offered(client, project, other_project, new_case,
                                                                       theirs, team):
    both = ContractorFactory(name="丙物业维修有限公司", projects=[project, other_project])
    everywhere = staff_with_perms("cases.handle_case", all_projects=True, username="all-worker")
    boss = staff_with_perms("cases.view_case", "cases.dispatch_case", all_projects=True)
    client.force_login(boss)
    mine = new_case()
    form = client.get(bulk_url(mine, theirs)).context["form"]
    assert [label for _v, label in form.fields["contractor"].choices][1:] == ["丙物业维修有限公司"]
    assert [label for _v, label in form.fields["assignee"].choices][1:] == ["all-worker"]
    client.post(bulk_url(mine, theirs), {"contractor": both.pk, "assignee": everywhere.pk})
    for case in (mine, theirs):
        case.refresh_from_db()
        assert (case.status, case.contractor, case.assignee) == (Status.DISPATCHED, both, everywhere)


@pytest.mark.parametrize("data, message", [
    ({}, "请选择派单对象（部门、施工单位或处理人）。"),
    ({"contractor": "their_contractor"}, None),
    ({"assignee": "their_worker"}, None),
    ({"assignee": "nobody"}, None),
    ({"department": "999999"}, None),
])
def test_bad_input_is_a_message_and_changes_nothing(d_client, new_case, team, data, message):
    case = new_case()
    values = {key: team[value].pk if value in team else value for key, value in data.items()}
    response = d_client.post(bulk_url(case), values)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors
    if message:
        assert message in html(response)
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and not dispatch_events(case)


def test_only_staff_who_may_dispatch(client, agent, project, new_case, team):
    case = new_case()
    handler = staff_with_perms("cases.view_case", "cases.handle_case", projects=[project])
    client.force_login(handler)
    assert_denied(client.get(bulk_url(case)))
    assert_denied(client.post(bulk_url(case), {"department": team["department"].pk}))
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_select_all_takes_the_lists_filters_and_is_capped(d_client, new_case, agent, team, theirs, monkeypatch):
    registered = [new_case(), new_case()]
    advance(new_case(), agent, Status.ACCEPTED)
    form_page = d_client.get(bulk_url(**{"id": "all", "status": "registered"}))
    assert sorted(item["item"].number for item in form_page.context["items"]) == sorted(
        case.number for case in registered)
    assert form_page.context["missing"] == 0
    d_client.post(bulk_url(**{"id": "all", "status": "registered"}), {"department": team["department"].pk})
    assert Case.objects.filter(status=Status.DISPATCHED).count() == 2
    theirs.refresh_from_db()
    assert theirs.status == Status.REGISTERED
    monkeypatch.setattr(bulk_actions, "BULK_LIMIT", 2)
    response = d_client.get(bulk_url(**{"id": "all"}))
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert "一次最多批量派单 2 条工单" in " ".join(messages_of(d_client.get(LIST_URL)))


def test_junk_ids_are_ignored(d_client, new_case):
    case = new_case()
    response = d_client.get(f"{BULK_URL}?id={case.pk}&id=abc&id=-1&id=")
    assert response.status_code == 200 and [item["item"] for item in response.context["items"]] == [case]


def test_queries_stay_bounded_with_twenty_cases(dispatcher, new_case, team, django_assert_max_num_queries):
    client = Client()
    client.force_login(dispatcher)
    cases = [new_case() for _ in range(22)]
    with CaptureQueriesContext(connection) as one_page:
        client.get(bulk_url(cases[0]))
    with django_assert_max_num_queries(len(one_page)):
        response = client.get(bulk_url(*cases[1:21]))
    assert len(response.context["items"]) == 20
    # The batch costs the service's own queries per case, plus a fixed overhead.
    with CaptureQueriesContext(connection) as one_service:
        services.dispatch(cases[21], dispatcher, department=team["department"])
    with CaptureQueriesContext(connection) as one_post:
        client.post(bulk_url(cases[0]), {"department": team["department"].pk})
    overhead = len(one_post) - len(one_service)
    assert overhead <= 15, overhead
    with django_assert_max_num_queries(overhead + 20 * len(one_service)):
        client.post(bulk_url(*cases[1:21]), {"department": team["department"].pk})
    assert Case.objects.filter(status=Status.DISPATCHED).count() == 22


# --- Bulk delete stays in scope --------------------------------------------------------------------


def test_bulk_delete_never_names_or_deletes_another_projects_case(d_client, new_case, theirs):
    mine = new_case()
    assert d_client.get(f"/admin/bulk/cases/case/delete/?id={theirs.pk}").status_code == 404
    page = html(d_client.get(f"/admin/bulk/cases/case/delete/?id={theirs.pk}&id={mine.pk}"))
    assert theirs.number not in page and mine.number in page
    d_client.post(f"/admin/bulk/cases/case/delete/?id={theirs.pk}&id={mine.pk}", {})
    assert Case.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2


def test_bulk_delete_of_policies_stays_in_scope(client, project, other_project):
    manager = staff_with_perms("cases.view_slapolicy", "cases.delete_slapolicy", projects=[project])
    client.force_login(manager)
    theirs = SLAPolicy.objects.create(name="浦江云庭报修", kind="repair", project=other_project)
    mine = SLAPolicy.objects.create(name="钱塘雅苑报修", kind="repair", project=project)
    general = SLAPolicy.objects.get(name="咨询")
    url = "/admin/bulk/cases/slapolicy/delete/"
    assert client.get(f"{url}?id={theirs.pk}").status_code == 404
    page = html(client.get(f"{url}?id={theirs.pk}&id={mine.pk}&id={general.pk}"))
    assert "浦江云庭报修" not in page and "钱塘雅苑报修" in page
    client.post(f"{url}?id={theirs.pk}&id={mine.pk}&id={general.pk}", {})
    assert not SLAPolicy.objects.filter(pk=mine.pk).exists()
    assert SLAPolicy.objects.filter(pk__in=[theirs.pk, general.pk]).count() == 2
