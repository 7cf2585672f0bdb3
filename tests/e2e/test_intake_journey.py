"""An agent registers a call from a known owner's number in a real browser at a desktop
viewport (issue 10's browser test): 来电登记 from the admin menu, the number typed as the
caller gives it, the owner's unit picked from the results, the category found by typing, and
the form submitted from the keyboard; the agent reads back the number and the first due time.
Screenshots: test-artifacts/e2e/ (prefix "intake-")."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from plugins.cases.models import Case, Category, RoutingRule, StandardReply
from tests import factories
from tests.conftest import staff_with_perms
from tests.plugins.cases.conftest import ALL_VERBS

from .test_case_journey import DESKTOP, NUMBER_RE

pytestmark = [pytest.mark.browser]


@pytest.fixture
def hotline(shipped_defaults):
    cache.clear()
    project = factories.ProjectFactory(code="HZ01", name="钱塘雅苑")
    building = factories.BuildingFactory(project=project, code="3", name="3号楼")
    unit = factories.UnitFactory(building=building, entrance="2", number="1502")
    owner = factories.OwnerFactory(name="林晓", mobile="13900139000")
    factories.OwnershipFactory(owner=owner, unit=unit)
    plumbing = Category.objects.get(code="daily-plumbing")
    department = factories.DepartmentFactory(code="ENG", name="工程维修部")
    RoutingRule.objects.create(name="钱塘雅苑给排水", category=plumbing, project=project, department=department)
    reply = StandardReply.objects.create(title="告知上门时间", text="维修师傅将在30分钟内与您联系。", live=False)
    reply.save_revision().publish()
    agent = staff_with_perms(*ALL_VERBS, "cases.view_case", projects=[project], username="zuoxi")
    agent.set_password("坐席-密码-2026")
    agent.save()
    yield {"unit": unit, "owner": owner}
    cache.clear()


def test_an_agent_registers_a_call_from_a_known_owners_number(hotline, phone_factory):
    screen = phone_factory(prefix="intake-", **DESKTOP)
    page = screen.page
    screen.sign_in_to_admin("zuoxi", "坐席-密码-2026", by_keyboard=True)
    page.get_by_role("link", name="来电登记").click()
    page.wait_for_url(re.compile(r"/admin/cases/intake/"))

    # The caller's number as the caller says it.
    lookup = page.locator("#intake-q")
    expect(lookup).to_be_focused()
    lookup.fill("+86 139-0013-9000")
    lookup.press("Enter")
    expect(page.locator("#intake-owners")).to_be_visible()
    expect(page.get_by_text("林晓").first).to_be_visible()
    screen.shot("lookup")

    # The owner's unit from the results fills the form; the keyboard does the rest.
    page.get_by_role("link", name=re.compile(r"钱塘雅苑 3-2-1502")).first.click()
    expect(page.locator("#intake-r-unit")).to_have_value("3-2-1502")
    expect(page.locator("#intake-r-mobile")).to_have_value(re.compile(r"13900139000"))
    page.select_option("#intake-r-kind", "repair")
    category_filter = page.locator("#intake-r-category-filter")
    category_filter.fill("给排水")
    category_filter.press("Enter")
    expect(page.locator("#intake-r-category")).to_have_value(str(Category.objects.get(code="daily-plumbing").pk))
    description = page.locator("#intake-r-description")
    description.fill("厨房水槽下的进水管接头滴水，已关闭角阀。")
    # A standard reply goes in at the cursor (standard_replies.js), not by posting the form.
    page.evaluate("window.stillThisPage = true")
    page.get_by_role("button", name="告知上门时间").click()
    expect(description).to_have_value("厨房水槽下的进水管接头滴水，已关闭角阀。\n维修师傅将在30分钟内与您联系。")
    assert page.evaluate("window.stillThisPage === true")  # inserted in place, the form not posted
    description.focus()
    screen.shot("form")
    description.press("Control+Enter")

    done = page.locator("#intake-done")
    expect(done).to_be_visible()
    number = done.locator("[data-intake-case-number]").inner_text()
    assert NUMBER_RE.fullmatch(number)
    expect(done).to_contain_text("工程维修部")  # routed at once by the rule
    expect(done).to_contain_text("前（北京时间")  # the first due time
    screen.shot("registered")

    case = Case.objects.get(number=number)
    assert case.description.endswith("维修师傅将在30分钟内与您联系。")
    assert (case.unit, case.owner, case.channel, case.status) == (
        hotline["unit"], hotline["owner"], "hotline", "dispatched")
    assert Case.objects.count() == 1
    assert not screen.page_errors and not screen.failures
    screen.assert_stayed_local()
