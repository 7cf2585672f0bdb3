"""指标看板: the page, its drill-downs, export, panel, scope and bad input, as a manager uses it."""

import datetime as dt
import io
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from plugins.cases import rollups, services
from tests.conftest import staff_with_perms
from tests.factories import UnitFactory

from .conftest import ALL_VERBS, contractor

URL = "/admin/cases/dashboard/"


@pytest.fixture
def manager(project):
    return staff_with_perms("cases.view_figures", "cases.view_case", projects=[project], username="manager")


@pytest.fixture
def figures(new_case, agent, project, other_project):
    """Three repairs in HZ01 (one contacted late, one fixed first time) and one in SH02."""
    fixer = contractor(name="甲维修")
    done = new_case()
    services.dispatch(done, agent, contractor=fixer)
    services.record_contact(done, agent, reached=True)
    services.complete(done, agent, "已修好")
    new_case()
    new_case(description="客厅插座没电")
    elsewhere = staff_with_perms(*ALL_VERBS, projects=[other_project], username="elsewhere")
    services.register(elsewhere, kind="repair", channel="web", project=other_project,
                      unit=UnitFactory(building__project=other_project), reporter_name="李先生",
                      reporter_mobile="13900139000", description="外地项目的报修")
    # Last month's case: counted in last month's figures, never in this month's drill-downs.
    last_month = services.register(agent, kind="repair", channel="hotline", project=project,
                                   unit=UnitFactory(building=done.unit.building), reporter_name="赵先生",
                                   reporter_mobile="13700137000", description="上月的报修",
                                   when=timezone.now() - dt.timedelta(days=40))
    rollups.rebuild()
    return {"fixer": fixer, "done": done, "last_month": last_month}


def links(html):
    return [unescape(href) for href in re.findall(r'href="([^"]+)"', html)]


def test_the_page_shows_the_months_figures_within_scope(client, manager, figures, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(25):
        response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "钱塘雅苑" in html and "浦江云庭" not in html  # the other project is not in the manager's scope
    assert "<svg" in html and "指标口径" in html and "数据截至" in html
    overview = html.split('id="table-overview"')[1].split("</section>")[0]
    assert re.search(r"受理量\s*</th>\s*<td class=\"number\">\s*<a [^>]*>3</a>", overview)


def test_query_count_does_not_grow_with_cases(client, manager, new_case, agent, project):
    fixer = contractor(name="甲维修")
    services.dispatch(new_case(), agent, contractor=fixer)
    rollups.rebuild()
    client.force_login(manager)

    def queries():
        client.get(URL)  # warm: the menu's queue counts go stale whenever cases change
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for n in range(12):
        case = new_case(description=f"第{n}件", channel="web" if n % 2 else "hotline")
        services.dispatch(case, agent, contractor=fixer if n % 3 else contractor(name=f"乙{n}"))
    rollups.refresh()
    assert queries() == few <= 25


def test_a_figure_drills_down_to_its_cases(client, manager, figures):
    client.force_login(manager)
    html = client.get(URL).content.decode()
    overview = html.split('id="table-overview"')[1].split("</section>")[0]
    drill = links(overview)[1]  # 受理量 (the first is the table's XLSX export)
    assert "registered_at_from=" in drill and "figure=" not in drill
    listed = client.get(drill)
    assert listed.status_code == 200
    assert listed.content.decode().count("BX") >= 3
    assert figures["last_month"].number not in listed.content.decode()  # the period holds
    # The contractor row drills down through the contractor that had the one chance.
    holder = next(link for link in links(html) if f"holder={figures['fixer'].pk}" in link and "figure" not in link)
    page = client.get(holder).content.decode()
    assert figures["done"].number in page


def test_empty_period_gives_zeros_and_an_explanation(client, manager, figures):
    client.force_login(manager)
    response = client.get(URL, {"from": "2020-01", "to": "2020-03"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "没有登记工单" in html and "2020-01 至 2020-03" in html


@pytest.mark.parametrize("params, message", [
    ({"from": "2026-13"}, "月份超出范围"),
    ({"from": "26-1"}, "月份格式应为"),
    ({"from": "2026-10", "to": "2026-09"}, "结束月份不能早于开始月份"),
    ({"from": "2020-01", "to": "2026-01"}, "统计期最长"),
    ({"project": "abc"}, "项目参数无效"),
])
def test_bad_periods_get_a_message_and_400(client, manager, params, message):
    client.force_login(manager)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_another_projects_dashboard_is_404(client, manager, other_project):
    client.force_login(manager)
    assert client.get(URL, {"project": other_project.pk}).status_code == 404


def test_without_the_permission_there_is_no_dashboard(client, agent):
    client.force_login(agent)
    response = client.get(URL)  # Wagtail turns the refusal into a redirect with a message
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert "指标看板" not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_xlsx_export_has_every_table_as_on_the_page(client, manager, figures):
    client.force_login(manager)
    response = client.get(URL, {"export": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames[:3] == ["概览", "时限按时率", "办结用时（登记到关闭）"]
    assert "按项目" in book.sheetnames and "按施工单位（拥有一次机会的单位）" in book.sheetnames
    rows = list(book["概览"].iter_rows(values_only=True))
    assert rows[1][:2] == ("指标", "数值") and rows[2][:2] == ("受理量", 3)
    one = client.get(URL, {"export": "xlsx", "table": "category"})
    assert load_workbook(io.BytesIO(one.content), read_only=True).sheetnames == ["按分类"]
    assert client.get(URL, {"export": "xlsx", "table": "nope"}).status_code == 404


def test_the_admin_home_shows_the_panel(client, manager, figures):
    client.force_login(manager)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "指标看板" in html and "本月受理" in html and URL in html


def test_drill_down_filters_refuse_nonsense_without_500(client, manager, figures):
    client.force_login(manager)
    listing = reverse("wagtailsnippets_cases_case:list")
    for params in ({"figure": "nope"}, {"holder": "999999"}, {"missing": "x"}, {"figure": "clock_late:contact",
                                                                                 "registered_at_from": "bad"}):
        assert client.get(listing, params).status_code in (200, 400)


def test_the_as_of_time_is_the_last_refresh(client, manager, figures):
    client.force_login(manager)
    stamp = timezone.localtime(rollups.as_of()).strftime("%Y-%m-%d %H:%M")
    assert f"数据截至 {stamp}" in client.get(URL).content.decode()


def test_every_drill_down_lists_as_many_cases_as_its_figure_says(client, manager, figures, rf):
    """Each number's link, counted live through the list's own filters, gives that number; the
    list's count comes from the dashboard without counting the cases again."""
    from urllib.parse import parse_qsl, urlsplit

    from estates import scope
    from plugins.cases import drilldown
    from plugins.cases.models import Case
    from plugins.cases.viewsets import CaseFilterSet

    client.force_login(manager)
    html = client.get(URL).content.decode()
    checked = 0
    for table in re.findall(r'<section class="dashboard-table".*?</section>', html, re.S):
        for href, text in re.findall(r'<a href="([^"]+)">([0-9]+)</a>', table):
            params = dict(parse_qsl(urlsplit(unescape(href)).query))
            if "registered_at_from" not in params:
                continue  # the live "now" figures open the live queues
            request = rf.get("/", params)
            request.user = manager
            cases = scope.restrict(Case.objects.all(), manager)  # as the list narrows them
            live = CaseFilterSet(params, queryset=cases, request=request).qs.count()
            known = drilldown.known_count(params, manager)
            assert known is None or known == live, href
            if params.get("figure") != "scored":  # counts call-backs, the list cases
                assert int(text) == live and known == live, href
            checked += 1
    assert checked > 20
