"""HomePage.route finds pages by URL path in one query; privacy (view restrictions) and
liveness behave as with Wagtail's own walk of the tree."""

import pytest
from wagtail.models import PageViewRestriction

from tests.factories import ProjectFactory
from tests.portal import add_bulletin, add_open_day, add_project_page, build_portal


@pytest.fixture
def portal(db):
    portal = build_portal()
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    add_project_page(portal, project)
    portal.bulletin = add_bulletin(portal, project, title="十月工程进展")
    portal.open_day = add_open_day(portal, project, title="十二月工地开放日")
    return portal


def test_nested_page_is_served_as_its_specific_type(client, portal):
    response = client.get(portal.bulletin.url)
    assert response.status_code == 200
    assert response.context["page"].specific_class.__name__ == "ProgressBulletinPage"
    assert "十月工程进展" in response.content.decode()


@pytest.mark.parametrize("path", ["/nothing-here/", "/bulletins/nothing-here/", "/hz01/extra/"])
def test_unknown_paths_are_404(client, portal, path):
    assert client.get(path).status_code == 404


def test_draft_page_is_404(client, portal):
    portal.bulletin.unpublish()
    assert client.get("/bulletins/十月工程进展/").status_code == 404


def test_moved_page_answers_at_its_new_url_and_the_old_one_redirects(client, portal):
    old_url = portal.bulletin.url
    portal.bulletin.move(portal.home, pos="last-child")
    portal.bulletin.refresh_from_db()
    assert client.get(portal.bulletin.url).status_code == 200
    response = client.get(old_url)  # wagtail.contrib.redirects made a permanent redirect
    assert response.status_code == 301 and response["Location"] == portal.bulletin.url


def test_private_section_asks_for_login_and_is_left_out_of_lists(client, portal):
    PageViewRestriction.objects.create(page=portal.bulletin_index, restriction_type=PageViewRestriction.LOGIN)
    PageViewRestriction.objects.create(page=portal.openday_index, restriction_type=PageViewRestriction.LOGIN)

    response = client.get(portal.bulletin.url)
    assert response.status_code == 302 and "/login" in response["Location"]

    home = client.get("/").content.decode()
    project = client.get(portal.projects[0].url).content.decode()
    for html in (home, project):
        assert "十月工程进展" not in html
        assert "十二月工地开放日" not in html


def test_restriction_on_the_original_applies_to_its_alias(client, portal):
    alias = portal.bulletin.create_alias(parent=portal.home, update_slug="alias-of-bulletin")
    assert client.get(alias.url).status_code == 200
    PageViewRestriction.objects.create(page=portal.bulletin, restriction_type=PageViewRestriction.LOGIN)
    assert client.get(alias.url).status_code == 302


def test_logged_in_user_reads_a_login_restricted_page(client, portal, admin_user):
    PageViewRestriction.objects.create(page=portal.bulletin_index, restriction_type=PageViewRestriction.LOGIN)
    client.force_login(admin_user)
    assert client.get(portal.bulletin.url).status_code == 200
