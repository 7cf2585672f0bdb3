"""Project scope in the case desk's admin (ARCHITECTURE.md decision 3): staff limited to
钱塘雅苑 (HZ01) never see, export, find, choose or touch a case of 浦江云庭 (SH02) — per screen
and per verb; superusers and all-projects staff see both."""

import csv
import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from plugins.cases import services
from plugins.cases.models import Case, Status
from plugins.cases.queues import queue_counts
from plugins.cases.views import VERBS
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, ContractorFactory, UnitFactory
from tests.plugins.cases.conftest import ALL_VERBS
from tests.plugins.cases.test_admin import (
    LIST_URL,
    act_url,
    case_url,
    html,
    listed,
    numbers,
    register_data,
    url,
    xlsx_rows,
)


@pytest.fixture
def theirs(other_project):
    """A case of SH02, registered by SH02's own agent."""
    other_agent = staff_with_perms(*ALL_VERBS, projects=[other_project], username="other-agent")
    unit = UnitFactory(building=BuildingFactory(project=other_project, code="5", name="5号楼"))
    ContractorFactory(name="乙装饰工程有限公司", projects=[other_project])
    return services.register(other_agent, kind="repair", channel="hotline", project=other_project, unit=unit,
                             reporter_name="张先生", reporter_mobile="13700137000", description="外墙渗水",
                             priority="urgent")


@pytest.fixture
def mine(new_case):
    return new_case()


@pytest.fixture
def a_client(client, agent):
    client.force_login(agent)
    return client


def assert_nothing_of_theirs(page):
    for text in ("浦江云庭", "5号楼", "乙装饰工程有限公司", "外墙渗水", "137****7000"):
        assert text not in page, text


def test_limited_staff_list_only_their_projects_cases(a_client, mine, theirs):
    response = a_client.get(LIST_URL)
    assert listed(response) == numbers(mine)
    assert_nothing_of_theirs(html(response))
    # A filter naming the other project is refused, never obeyed.
    assert listed(a_client.get(LIST_URL, {"project": theirs.project_id})) == numbers(mine)
    assert listed(a_client.get(LIST_URL, {"building": theirs.building_id})) == numbers(mine)
    for query in (theirs.number, "13700137000", "1370013", "外墙", "5-"):
        assert listed(a_client.get(LIST_URL, {"q": query})) == [], query
    for queue in ("unassigned", "mine", "completed"):
        assert theirs.number not in listed(a_client.get(LIST_URL, {"queue": queue}))


@pytest.mark.parametrize("who", ["superuser", "all_projects"])
def test_superusers_and_all_projects_staff_see_every_case(client, admin_user, mine, theirs, who):
    user = admin_user if who == "superuser" else staff_with_perms("cases.view_case", all_projects=True)
    client.force_login(user)
    assert listed(client.get(LIST_URL)) == numbers(mine, theirs)
    assert client.get(case_url(theirs)).status_code == 200
    assert "浦江云庭" in html(client.get(LIST_URL))


def test_filter_choices_hold_only_their_projects(a_client, theirs):
    form = a_client.get(LIST_URL).context["filters"].form
    for name in ("project", "building", "contractor"):
        assert_nothing_of_theirs(" ".join(str(label) for _value, label in form.fields[name].choices))
    form = a_client.get(LIST_URL, {"project": theirs.project_id}).context["filters"].form
    assert all("5号楼" != label for _value, label in form.fields["building"].choices)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_holds_no_row_of_another_project(a_client, mine, theirs, fmt):
    response = a_client.get(LIST_URL, {"export": fmt, "project": theirs.project_id})
    if fmt == "xlsx":
        rows = xlsx_rows(response)
    else:
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [mine.number]


def test_another_projects_case_page_is_not_found(a_client, theirs):
    assert a_client.get(case_url(theirs)).status_code == 404


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_verb_on_another_projects_case_is_not_found(a_client, theirs, verb):
    fields = {"note-text": "看看", "cancel-reason": "不修了", "complete-result": "好了", "pause-reason": "owner",
              "dispatch-assignee": "", "dispatch-department": ""}
    assert a_client.post(act_url(theirs, verb), fields).status_code == 404
    assert a_client.get(act_url(theirs, verb)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.REGISTERED and theirs.events.count() == 1 and theirs.history.count() == 1


def case_object_urls():
    """(namespace, url name, needs a verb) of every registered admin URL of the Case viewset and
    its chooser whose pattern takes a pk."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in (
                "wagtailsnippets_cases_case", "wagtailsnippetchoosers_cases_case"
            ):
                converters = getattr(pattern.pattern, "converters", {})
                if "pk" in converters:
                    found.append((namespace, pattern.name, "verb" in converters))

    walk(get_resolver().url_patterns, None)
    return found


def test_the_url_walk_finds_every_object_view():
    names = {name for _namespace, name, _verb in case_object_urls()}
    assert {"inspect", "act", "edit", "delete", "history", "usage", "chosen"} <= names


def test_every_case_url_answers_404_or_403_for_another_projects_case(a_client, mine, theirs):
    checked = 0
    for namespace, name, needs_verb in case_object_urls():
        kwargs = {"verb": "accept"} if needs_verb else {}
        own = reverse(f"{namespace}:{name}", kwargs={"pk": mine.pk, **kwargs})
        other = reverse(f"{namespace}:{name}", kwargs={"pk": theirs.pk, **kwargs})
        assert a_client.get(own).status_code in (200, 302), own
        response = a_client.get(other)
        assert response.status_code in (403, 404), (other, response.status_code)
        if "choosers" not in namespace:
            response = a_client.post(other, {})
            assert response.status_code in (403, 404), (other, "POST", response.status_code)
        checked += 1
    assert checked >= 7
    theirs.refresh_from_db()
    assert theirs.status == Status.REGISTERED and theirs.events.count() == 1


def test_the_case_chooser_lists_only_their_projects(a_client, mine, theirs):
    chooser = reverse("wagtailsnippetchoosers_cases_case:choose")
    page = html(a_client.get(chooser))
    assert mine.number in page and theirs.number not in page
    results = reverse("wagtailsnippetchoosers_cases_case:choose_results")
    assert [str(case) for case in a_client.get(results, {"q": theirs.number}).context["results"]] == []
    assert [str(case) for case in a_client.get(results, {"q": mine.number}).context["results"]] == [mine.number]


def test_queue_counts_leave_out_another_projects_cases(agent, mine, theirs, admin_user):
    assert queue_counts(agent)["unassigned"] == 1
    assert queue_counts(admin_user)["unassigned"] == 2


def test_cannot_register_a_case_in_another_project(a_client, theirs, project):
    form = a_client.get(url("add")).context["form"]
    assert list(form.fields["project"].queryset) == [project]
    before = Case.objects.count()
    response = a_client.post(url("add"), register_data(project=theirs.project_id))
    assert response.status_code == 400 and "project" in response.context["form"].errors
    response = a_client.post(url("add"), register_data(unit=theirs.unit_id))
    assert response.status_code == 400 and "unit" in response.context["form"].errors
    response = a_client.post(url("add"), register_data(project=project.pk, building=theirs.building_id))
    assert response.status_code == 400 and "building" in response.context["form"].errors
    assert Case.objects.count() == before


def test_the_unit_chooser_on_the_register_form_is_scoped(a_client, theirs, unit):
    chooser = reverse("wagtailsnippetchoosers_estates_unit:choose")
    assert chooser in html(a_client.get(url("add")))
    page = html(a_client.get(chooser))
    assert unit.label in page and theirs.unit.label not in page
