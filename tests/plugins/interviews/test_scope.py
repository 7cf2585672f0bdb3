"""Project scope on owner interviews (ARCHITECTURE.md decision 3): every registered admin URL of
the interview viewset and its chooser answers 404 or 403 for an interview of another project —
and, for staff who see only their own, for a colleague's — and the list, its filters, export,
search and chooser never show one."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from plugins.interviews.models import Finding, Interview

from .conftest import AGENT, LIST_URL, MANAGER, form_data, html

NAMESPACES = ("wagtailsnippets_interviews_interview", "wagtailsnippetchoosers_interviews_interview")


def interview_object_urls():
    """(namespace, url name, converters) of every admin URL of the interview viewset and its
    chooser whose pattern takes a pk."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in NAMESPACES:
                converters = getattr(pattern.pattern, "converters", {})
                if "pk" in converters:
                    found.append((namespace, pattern.name, set(converters)))

    walk(get_resolver().url_patterns, None)
    return found


@pytest.fixture
def theirs(member, other_project, other_unit, other_owner, log):
    """An interview of 浦江云庭 (SH02) with a finding, logged by SH02's own agent."""
    return log(user=member(AGENT, "far-agent", projects=[other_project]), project=other_project, unit=other_unit,
               owner=other_owner, topics="外墙渗水回访", findings=[("repair", "外墙渗水", "")])


@pytest.fixture
def mine(log):
    return log(findings=[("repair", "窗户渗水", "")])


def reverse_for(namespace, name, converters, interview):
    kwargs = {"pk": interview.pk}
    if "finding" in converters:
        kwargs["finding"] = interview.findings.first().pk
    return reverse(f"{namespace}:{name}", kwargs=kwargs)


def test_the_url_walk_finds_every_object_view():
    names = {name for _namespace, name, _converters in interview_object_urls()}
    assert {"inspect", "edit", "delete", "history", "usage", "raise", "chosen"} <= names


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_every_object_url_answers_404_or_403_for_another_projects_interview(client, request, who, mine, theirs):
    client.force_login(request.getfixturevalue(who))
    checked = 0
    for namespace, name, converters in interview_object_urls():
        own = reverse_for(namespace, name, converters, mine)
        other = reverse_for(namespace, name, converters, theirs)
        assert client.get(own).status_code in (200, 302), own
        response = client.get(other)
        assert response.status_code in (403, 404), (other, response.status_code)
        if "choosers" not in namespace:
            response = client.post(other, {})
            assert response.status_code in (403, 404), (other, "POST", response.status_code)
        checked += 1
    assert checked >= 7
    theirs.refresh_from_db()
    assert theirs.topics == "外墙渗水回访" and not theirs.findings.exclude(case_reference="").exists()


def test_a_colleagues_interview_is_not_found_for_staff_who_see_their_own(client, member, mine):
    client.force_login(member(AGENT, "colleague"))
    for namespace, name, converters in interview_object_urls():
        response = client.get(reverse_for(namespace, name, converters, mine))
        assert response.status_code in (403, 404), (name, response.status_code)


def test_a_finding_of_another_interview_is_not_found(client, agent, mine, theirs):
    client.force_login(agent)
    response = client.post(reverse("wagtailsnippets_interviews_interview:raise",
                                   args=[mine.pk, theirs.findings.get().pk]))
    assert response.status_code == 404
    assert not Finding.objects.exclude(case_reference="").exists()


def assert_nothing_of_theirs(page):
    for text in ("浦江云庭", "5-1-801", "赵建国", "外墙渗水", "far-agent"):
        assert text not in page, text


def test_list_filters_search_export_and_chooser_hold_nothing_of_another_project(client, member, project, mine, theirs):
    manager = member(MANAGER, "hz-manager")
    client.force_login(manager)
    response = client.get(LIST_URL)
    assert [i.pk for i in response.context["object_list"]] == [mine.pk]
    assert_nothing_of_theirs(html(response))
    form = response.context["filters"].form
    for name in ("project", "interviewer"):
        assert_nothing_of_theirs(" ".join(str(label) for _value, label in form.fields[name].choices))
    # A filter naming the other project or its interviewer is refused, never obeyed.
    for params in ({"project": theirs.project_id}, {"interviewer": theirs.interviewer_id}, {"q": "外墙"}):
        assert theirs not in client.get(LIST_URL, params).context["object_list"]
    export = client.get(LIST_URL, {"export": "csv"})
    assert_nothing_of_theirs(b"".join(export.streaming_content).decode("utf-8-sig"))
    chooser = client.get("/admin/snippets/choose/interviews/interview/")
    assert chooser.status_code == 200
    assert_nothing_of_theirs(html(chooser))


def test_an_interview_cannot_be_logged_in_another_project(client, agent, other_project):
    client.force_login(agent)
    response = client.post("/admin/snippets/interviews/interview/add/", form_data(other_project, topics="越权登记"))
    assert response.status_code == 400
    assert not Interview.objects.exists()


@pytest.mark.parametrize("who", ["superuser", "all_projects"])
def test_superusers_and_all_projects_managers_see_both(client, admin_user, member, project, other_project, mine,
                                                      theirs, who):
    user = admin_user if who == "superuser" else member(MANAGER, "boss", projects=[])
    if who == "all_projects":
        user.staff_profile.all_projects = True
        user.staff_profile.save()
    client.force_login(user)
    assert sorted(i.pk for i in client.get(LIST_URL).context["object_list"]) == sorted([mine.pk, theirs.pk])
    assert client.get(reverse("wagtailsnippets_interviews_interview:inspect", args=[theirs.pk])).status_code == 200
