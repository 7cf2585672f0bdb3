"""Owner interviews in the Wagtail admin as staff use them through the browser: logging one with
its findings, bad input refused with a Chinese message and a 4xx (what was typed kept, nothing
stored), editing, the list with its filters, 我的访谈 and export, the interview page, the menu,
deleting, and query counts."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from plugins.interviews.models import Finding, Interview
from tests.conftest import sidebar_menu
from tests.factories import BuildingFactory, OwnershipFactory, UnitFactory

from .conftest import ADD_URL, AGENT, LIST_URL, QUALITY, form_data, html, text_of, url


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def listed(response):
    assert response.status_code == 200, response.status_code
    return sorted(interview.pk for interview in response.context["object_list"])


# --- Logging an interview ----------------------------------------------------------------------


def test_staff_log_an_interview_with_findings(agent_client, agent, project, unit, owner):
    day = timezone.localdate() - dt.timedelta(days=2)
    response = agent_client.post(ADD_URL, form_data(
        project, unit=unit, owner=owner, date=day, method="phone", topics="物业服务、公共设施",
        summary="业主希望增加充电桩", findings=[
            {"kind": "repair", "text": "卫生间地漏返味", "category_hint": "给排水"},
            {"kind": "complaint", "text": "前台态度冷淡", "category_hint": ""},
        ]))
    interview = Interview.objects.get()
    assert response.status_code == 302 and response["Location"] == url("inspect", interview.pk)
    assert (interview.interviewer, interview.project, interview.unit, interview.owner, interview.date,
            interview.method, interview.topics) == (agent, project, unit, owner, day, "phone", "物业服务、公共设施")
    assert list(interview.findings.values_list("kind", "text", "category_hint")) == [
        ("repair", "卫生间地漏返味", "给排水"), ("complaint", "前台态度冷淡", "")]
    assert interview.history.get().history_user == agent
    page = text_of(agent_client.get(response["Location"]))
    for text in ("林晓燕", "钱塘雅苑", "3-1-1502", "王秀英", "电话", "卫生间地漏返味", "转为工单"):
        assert text in page, text


def test_the_form_offers_only_their_projects_and_preselects_their_only_one(agent_client, project, other_project):
    form = agent_client.get(ADD_URL).context["form"]
    assert [str(label) for _value, label in form.fields["project"].choices][1:] == ["钱塘雅苑"]
    assert form.fields["project"].initial == project.pk


def test_the_unit_and_owner_choosers_follow_the_chosen_project_and_unit(agent_client, project):
    form = agent_client.get(ADD_URL).context["form"]
    assert form.fields["unit"].widget.linked_fields == {"project": {"id": "id_project"}}
    assert form.fields["owner"].widget.linked_fields == {"unit": {"id": "id_unit"}, "project": {"id": "id_project"}}
    assert "linkedFields" in html(agent_client.get(ADD_URL))  # handed to the chooser's script


def assert_refused(response, *expected):
    """A 400 naming the problem in Chinese, with what was typed still in the form."""
    assert response.status_code == 400, response.status_code
    page = html(response)
    for text in expected:
        assert text in page, text
    assert "业主说电梯太慢" in page  # the typed topics are kept
    assert not Interview.objects.exists() and not Finding.objects.exists()


def test_a_future_date_is_refused(agent_client, project, unit, owner):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = agent_client.post(ADD_URL, form_data(project, unit=unit, owner=owner, date=tomorrow,
                                                    topics="业主说电梯太慢"))
    assert_refused(response, "访谈日期不能晚于今天", tomorrow.isoformat())


def test_a_unit_of_another_project_is_refused(client, member, project, other_project, unit, other_unit):
    both = member(AGENT, "both", projects=[project, other_project])
    client.force_login(both)
    response = client.post(ADD_URL, form_data(project, unit=other_unit, topics="业主说电梯太慢"))
    assert_refused(response, "房号“5-1-801”不属于所选项目")


def test_a_unit_outside_their_projects_is_not_a_choice(agent_client, project, other_unit):
    response = agent_client.post(ADD_URL, form_data(project, unit=other_unit, topics="业主说电梯太慢"))
    assert_refused(response, "选择一个有效的选项")


def test_an_owner_who_does_not_own_the_unit_is_refused(agent_client, project, unit):
    stranger = OwnershipFactory(unit=UnitFactory(building=BuildingFactory(project=project, code="9")),
                                owner__name="孙丽").owner
    response = agent_client.post(ADD_URL, form_data(project, unit=unit, owner=stranger, topics="业主说电梯太慢"))
    assert_refused(response, "“孙丽”不是房号“3-1-1502”的现业主")


def test_a_finding_without_a_text_is_refused(agent_client, project, unit, owner):
    response = agent_client.post(ADD_URL, form_data(project, unit=unit, owner=owner, topics="业主说电梯太慢", findings=[
        {"kind": "repair", "text": "  ", "category_hint": "电梯"}]))
    assert_refused(response, "请填写问题描述", "电梯")


def test_a_finding_without_a_kind_is_refused(agent_client, project, unit, owner):
    response = agent_client.post(ADD_URL, form_data(project, unit=unit, owner=owner, topics="业主说电梯太慢", findings=[
        {"kind": "", "text": "电梯异响", "category_hint": ""}]))
    assert_refused(response, "请选择问题类型", "电梯异响")


def test_empty_topics_are_refused(agent_client, project):
    response = agent_client.post(ADD_URL, form_data(project, topics="", summary="业主说电梯太慢"))
    assert_refused(response, "请填写访谈主题")


def test_staff_without_the_permission_cannot_log(client, member, project):
    from tests.factories import StaffProfileFactory, UserFactory

    outsider = UserFactory(username="outsider")
    StaffProfileFactory(user=outsider, projects=[project])
    client.force_login(outsider)
    assert client.get(ADD_URL).status_code in (302, 403)
    client.post(ADD_URL, form_data(project, topics="入住体验"))
    assert not Interview.objects.exists()


# --- Editing -----------------------------------------------------------------------------------


def test_staff_edit_their_interview_and_add_a_finding(agent_client, log, project, unit, owner):
    interview = log(findings=[("repair", "窗户渗水", "门窗")])
    finding = interview.findings.get()
    response = agent_client.post(url("edit", interview.pk), form_data(
        project, unit=unit, owner=owner, date=interview.date, topics="入住体验（补充）",
        existing=[(finding, {"text": "主卧窗户渗水"})], findings=[{"kind": "enquiry", "text": "办证时间", "category_hint": ""}]))
    assert response.status_code == 302, html(response)[-3000:]
    interview.refresh_from_db()
    assert interview.topics == "入住体验（补充）"
    assert list(interview.findings.values_list("text", flat=True)) == ["主卧窗户渗水", "办证时间"]


def test_a_raised_finding_is_neither_changed_nor_deleted(agent_client, log, project, unit, owner):
    interview = log(findings=[("repair", "窗户渗水", "门窗")])
    finding = interview.findings.get()
    Finding.objects.filter(pk=finding.pk).update(case_reference="BX20261120-0001")
    edit = agent_client.get(url("edit", interview.pk))
    assert "已转为工单 BX20261120-0001，不能再修改" in html(edit)
    # A changed text of a raised finding is ignored (the field is disabled) …
    agent_client.post(url("edit", interview.pk), form_data(
        project, unit=unit, owner=owner, date=interview.date, topics="入住体验",
        existing=[(finding, {"text": "改掉"})]))
    assert Finding.objects.get(pk=finding.pk).text == "窗户渗水"
    # … and deleting it is refused.
    response = agent_client.post(url("edit", interview.pk), form_data(
        project, unit=unit, owner=owner, date=interview.date, topics="入住体验（补充）",
        existing=[(finding, {"DELETE": True})]))
    assert response.status_code == 400
    assert "已转为工单 BX20261120-0001，不能删除" in html(response)
    assert "入住体验（补充）" in html(response)
    assert Finding.objects.filter(pk=finding.pk).exists()
    assert Interview.objects.get().topics == "入住体验"


def test_staff_cannot_edit_a_colleagues_interview_managers_can(client, log, member, manager, project, unit, owner):
    colleague = member(AGENT, "colleague")
    theirs = log(user=colleague)
    data = form_data(project, unit=unit, owner=owner, date=theirs.date, topics="经理更正")
    client.force_login(member(AGENT, "another"))
    assert client.get(url("edit", theirs.pk)).status_code == 404  # not even visible
    client.force_login(member(QUALITY, "quality"))
    assert client.get(url("inspect", theirs.pk)).status_code == 200  # sees it …
    assert client.get(url("edit", theirs.pk)).status_code in (302, 403)  # … but does not change it
    assert client.post(url("edit", theirs.pk), data).status_code in (302, 403)
    assert Interview.objects.get().topics == "入住体验"
    client.force_login(manager)
    assert client.post(url("edit", theirs.pk), data).status_code == 302
    theirs.refresh_from_db()
    assert (theirs.topics, theirs.interviewer) == ("经理更正", colleague)


# --- The list ----------------------------------------------------------------------------------


@pytest.fixture
def spread(log, member, manager, agent, unit, owner):
    """Interviews of two staff over two years, one with a raised and one with an open finding."""
    colleague = member(AGENT, "colleague", first_name="陈志强")
    today = timezone.localdate()
    last_year = dt.date(today.year - 1, 6, 1)
    made = {
        "mine_now": log(date=today, method="phone", findings=[("repair", "漏水", "")]),
        "mine_before": log(date=last_year, topics="交付质量回访"),
        "theirs": log(user=colleague, date=today, unit=None, owner=None, findings=[("complaint", "噪音", "")]),
    }
    Finding.objects.filter(interview=made["theirs"]).update(case_reference="TS20261120-0001")
    return made


def pks(*interviews):
    return sorted(interview.pk for interview in interviews)


def test_staff_list_their_own_managers_everyone_in_their_projects(client, agent, manager, spread):
    client.force_login(agent)
    assert listed(client.get(LIST_URL)) == pks(spread["mine_now"], spread["mine_before"])
    client.force_login(manager)
    assert listed(client.get(LIST_URL)) == pks(*spread.values())
    page = text_of(client.get(LIST_URL))
    for text in ("林晓燕", "陈志强", "3-1-1502", "王秀英", "电话", "交付质量回访", "1 个（已转工单 1）"):
        assert text in page, text


def test_the_filters(client, manager, agent, spread):
    client.force_login(manager)
    year = timezone.localdate().year
    assert listed(client.get(LIST_URL, {"mine": "1"})) == []  # the manager logged none
    assert listed(client.get(LIST_URL, {"interviewer": agent.pk})) == pks(spread["mine_now"], spread["mine_before"])
    assert listed(client.get(LIST_URL, {"year": year - 1})) == pks(spread["mine_before"])
    assert listed(client.get(LIST_URL, {"year": year})) == pks(spread["mine_now"], spread["theirs"])
    assert listed(client.get(LIST_URL, {"method": "phone"})) == pks(spread["mine_now"])
    assert listed(client.get(LIST_URL, {"findings": "open"})) == pks(spread["mine_now"])
    assert listed(client.get(LIST_URL, {"findings": "raised"})) == pks(spread["theirs"])
    assert listed(client.get(LIST_URL, {"findings": "none"})) == pks(spread["mine_before"])
    assert listed(client.get(LIST_URL, {"project": spread["theirs"].project_id})) == pks(*spread.values())
    assert listed(client.get(LIST_URL, {"q": "交付"})) == pks(spread["mine_before"])
    assert listed(client.get(LIST_URL, {"q": "王秀英"})) == pks(spread["mine_now"], spread["mine_before"])
    form = client.get(LIST_URL).context["filters"].form
    assert [label for _value, label in form.fields["year"].choices][1:] == [f"{year} 年", f"{year - 1} 年"]


def test_my_interviews_quick_view(client, agent, manager, spread, log):
    mine = log(user=manager, unit=None, owner=None)
    client.force_login(manager)
    response = client.get(LIST_URL, {"mine": "1"})
    assert listed(response) == [mine.pk]
    assert "我的访谈" in html(response)
    client.force_login(agent)
    menu = sidebar_menu(client.get("/admin/"))["业主访谈"]
    assert menu["我的访谈"] == f"{LIST_URL}?mine=1" and menu["全部访谈"] == LIST_URL


def test_no_menu_without_an_interview_permission(client, project):
    from tests.conftest import staff_with_perms

    client.force_login(staff_with_perms("estates.view_project", projects=[project]))
    assert "业主访谈" not in sidebar_menu(client.get("/admin/"))
    assert client.get(LIST_URL).status_code in (302, 403)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export(client, manager, spread, fmt):
    client.force_login(manager)
    response = client.get(LIST_URL, {"export": fmt, "year": timezone.localdate().year})
    assert response.status_code == 200
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    else:
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["访谈日期", "访谈人", "项目", "房号"]
    findings = sorted(row[-1] for row in rows[1:])
    assert findings == ["[投诉] 噪音（TS20261120-0001）", "[报修] 漏水"]


def test_list_query_count_does_not_grow_with_the_rows(client, manager, log, django_assert_max_num_queries):
    client.force_login(manager)
    log(findings=[("repair", "漏水", "")])
    client.get(LIST_URL)  # the case desk's menu counts are cached after the first page
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST_URL).status_code == 200
    for n in range(30):
        log(findings=[("repair", f"漏水{n}", ""), ("enquiry", "办证", "")], topics=f"回访{n}")
    with CaptureQueriesContext(connection) as large:
        assert client.get(LIST_URL).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    with django_assert_max_num_queries(30):
        client.get(LIST_URL, {"year": timezone.localdate().year, "findings": "open", "q": "回访"})


def test_interview_page_query_count(client, manager, log, django_assert_max_num_queries):
    interview = log(findings=[("repair", f"漏水{n}", "") for n in range(10)])
    client.force_login(manager)
    with django_assert_max_num_queries(30):
        response = client.get(url("inspect", interview.pk))
    assert response.status_code == 200 and html(response).count("转为工单</button>") == 10


# --- Deleting ----------------------------------------------------------------------------------


def test_an_interview_with_a_raised_finding_is_not_deleted(admin_client, log):
    interview = log(findings=[("repair", "漏水", "")])
    Finding.objects.filter(interview=interview).update(case_reference="BX20261120-0001")
    response = admin_client.post(url("delete", interview.pk), follow=True)
    assert "已转为工单（BX20261120-0001），访谈记录不能删除" in html(response)
    assert Interview.objects.filter(pk=interview.pk).exists()
    other = log()
    admin_client.post(url("delete", other.pk))
    assert not Interview.objects.filter(pk=other.pk).exists()


def test_staff_cannot_delete(agent_client, log):
    interview = log()
    response = agent_client.post(url("delete", interview.pk))
    assert response.status_code in (302, 403)
    assert Interview.objects.filter(pk=interview.pk).exists()
