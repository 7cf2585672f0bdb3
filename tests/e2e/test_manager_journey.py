"""A manager drills from a dashboard figure into its cases in a real browser at a desktop
viewport (issue 10's browser test): 指标看板 from the admin menu, the late "联系业主" figure,
and the case list behind it showing exactly the late cases. Screenshots: test-artifacts/e2e/
(prefix "manager-")."""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from plugins.cases import clocks, services
from tests import factories
from tests.conftest import staff_with_perms
from tests.plugins.cases.conftest import ALL_VERBS

from .test_case_journey import DESKTOP

pytestmark = [pytest.mark.browser]


@pytest.fixture
def desk(shipped_defaults):
    cache.clear()
    project = factories.ProjectFactory(code="HZ01", name="钱塘雅苑")
    building = factories.BuildingFactory(project=project, code="3", name="3号楼")
    fixer = factories.ContractorFactory(name="安修公司", projects=[project])
    agent = staff_with_perms(*ALL_VERBS, projects=[project], username="zuoxi")
    cases = []
    for n, description in enumerate(["主卫漏水", "厨房插座没电", "阳台推拉窗关不严"]):
        case = services.register(agent, kind="repair", channel="hotline", project=project,
                                 unit=factories.UnitFactory(building=building, number=f"{n + 1}01"),
                                 reporter_name="林晓", reporter_mobile="13900139000", description=description)
        services.dispatch(case, agent, contractor=fixer)
        cases.append(case)
    services.record_contact(cases[0], agent, reached=True)  # in time; the other two are late
    # The contact clock runs on working hours: ten days later (past any weekend or holiday break)
    # both are late whenever the test runs.
    clocks.sweep(now=timezone.now() + dt.timedelta(days=10))  # records the breaches, refreshes the figures
    manager = staff_with_perms("cases.view_figures", "cases.view_case", projects=[project], username="jingli")
    manager.set_password("经理-密码-2026")
    manager.save()
    yield {"on_time": cases[0], "late": cases[1:]}
    cache.clear()


def test_a_manager_drills_from_a_late_figure_into_its_cases(desk, phone_factory):
    screen = phone_factory(prefix="manager-", **DESKTOP)
    page = screen.page
    screen.sign_in_to_admin("jingli", "经理-密码-2026")
    expect(page.get_by_text("本月受理")).to_be_visible()  # the panel on the admin home
    page.get_by_role("link", name="查看完整指标看板").click()
    page.wait_for_url(re.compile(r"/admin/cases/dashboard/"))
    clocks_table = page.locator("#table-clocks")
    contact = clocks_table.locator("tr", has_text="联系业主")
    expect(contact.locator("td").nth(0)).to_have_text("3")  # decided
    expect(contact.locator("td").nth(2)).to_have_text("2")  # late
    screen.shot("dashboard")

    contact.locator("td").nth(2).get_by_role("link").click()
    page.wait_for_url(re.compile(r"figure=clock_late%3Acontact|figure=clock_late:contact"))
    listing = page.locator("table.listing tbody")
    for case in desk["late"]:
        expect(listing).to_contain_text(case.number)
    expect(listing).not_to_contain_text(desk["on_time"].number)
    screen.shot("late-contact-cases")
    assert not screen.page_errors and not screen.failures
    screen.assert_stayed_local()
