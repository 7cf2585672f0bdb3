"""A staff member logs an owner interview in a real browser at a desktop viewport: the unit
chooser opens on the chosen project's units only, the owner chooser on the chosen unit's
current owners only, and the interview is saved with both. Screenshots: test-artifacts/e2e/
(prefix "interview-")."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from plugins.interviews.models import Interview
from tests import factories
from tests.conftest import staff_with_perms

from .test_case_journey import DESKTOP

pytestmark = [pytest.mark.browser]


@pytest.fixture
def estates(transactional_db):
    cache.clear()
    east = factories.ProjectFactory(code="HZ01", name="钱塘雅苑")
    west = factories.ProjectFactory(code="SH02", name="浦江云庭")
    home = factories.UnitFactory(building=factories.BuildingFactory(project=west, code="5", name="5号楼"),
                                 entrance="1", number="801")
    neighbour = factories.UnitFactory(building=home.building, entrance="1", number="802")
    factories.UnitFactory(building=factories.BuildingFactory(project=east, code="3", name="3号楼"),
                          entrance="2", number="1502")
    owner = factories.OwnershipFactory(unit=home, owner=factories.OwnerFactory(name="赵建国", mobile="13700137000")).owner
    factories.OwnershipFactory(unit=neighbour, owner=factories.OwnerFactory(name="钱多多", mobile="13700137001"))
    staff = staff_with_perms("interviews.add_interview", "interviews.view_interview", "estates.view_unit",
                             "estates.view_owner", "estates.view_project", projects=[east, west], username="fangtan")
    staff.set_password("访谈-密码-2026")
    staff.save()
    yield {"west": west, "home": home, "owner": owner}
    cache.clear()


def test_the_unit_and_owner_choosers_follow_the_project_and_unit(estates, phone_factory):
    screen = phone_factory(prefix="interview-", **DESKTOP)
    page = screen.page
    screen.sign_in_to_admin("fangtan", "访谈-密码-2026")
    screen.goto("/admin/snippets/interviews/interview/add/")
    choose = page.locator("[data-chooser-action-choose]")  # project, unit, owner
    modal = page.locator(".modal-dialog")
    choose.nth(0).click()
    modal.get_by_role("link", name="浦江云庭").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#id_project")).to_have_value(str(estates["west"].pk))

    # The unit chooser lists 浦江云庭's units, none of 钱塘雅苑's.
    choose.nth(1).click()
    expect(modal.get_by_text("5-1-801")).to_be_visible()
    expect(modal.get_by_text("5-1-802")).to_be_visible()
    expect(modal.get_by_text("3-2-1502")).to_have_count(0)
    screen.shot("units")
    modal.get_by_role("link", name="5-1-801").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#id_unit")).to_have_value(str(estates["home"].pk))

    # The owner chooser lists the current owner of 5-1-801 only.
    choose.nth(2).click()
    expect(modal.get_by_text("赵建国")).to_be_visible()
    expect(modal.get_by_text("钱多多")).to_have_count(0)
    screen.shot("owners")
    modal.get_by_role("link", name=re.compile("赵建国")).click()
    expect(modal).to_be_hidden()

    page.fill("#id_topics", "交付后的物业服务")
    screen.shot("form")
    page.locator("form[method=post] button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/add/" not in url)
    interview = Interview.objects.get()
    assert (interview.project, interview.unit, interview.owner) == (estates["west"], estates["home"], estates["owner"])
    assert not screen.page_errors and not screen.failures
    screen.assert_stayed_local()
