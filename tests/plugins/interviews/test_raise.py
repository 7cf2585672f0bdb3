"""A finding becomes a case in one click: through the signal interview_finding_raised, the case
desk's receiver (plugins/cases/interview_findings.py) opens exactly one case, sourced
``interviews.finding:<pk>``, whose number the interview page then shows. A second raise opens
nothing; a refusal — the case desk's or a missing mobile — stores nothing; without the case
desk there is no button and the page says so."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

import plugins.signals
from plugins.cases.interview_findings import open_case_from_finding
from plugins.cases.models import Case, Category
from plugins.interviews import services
from plugins.interviews.models import Finding

from .conftest import AGENT, QUALITY, html, text_of, url


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def raise_url(interview, finding=None):
    finding = finding or interview.findings.get()
    return url("raise", interview.pk, finding.pk)


def test_one_click_opens_one_case_and_shows_its_number(agent_client, agent, log, project, unit, owner):
    interview = log(findings=[("repair", "阳台顶部有水渍，怀疑楼上防水有问题", "渗漏水")])
    finding = interview.findings.get()
    response = agent_client.post(raise_url(interview))
    assert response.status_code == 302
    assert response["Location"] == f"{url('inspect', interview.pk)}#finding-{finding.pk}"
    case = Case.objects.get()
    assert case.source == f"interviews.finding:{finding.pk}"
    assert (case.kind, case.channel, case.project, case.unit, case.owner, case.registered_by) == (
        "repair", "walk_in", project, unit, owner, agent)
    assert (case.reporter_name, case.reporter_mobile) == ("王秀英", "13900139000")
    assert case.category == Category.objects.get(code="daily-waterproofing")  # the hint names it
    assert case.description.startswith("阳台顶部有水渍，怀疑楼上防水有问题\n分类提示：渗漏水\n（业主访谈")
    assert "访谈人 林晓燕" in case.description
    finding.refresh_from_db()
    assert (finding.case_reference, finding.raised_by) == (case.number, agent)
    assert finding.case_url == f"/admin/snippets/cases/case/inspect/{case.pk}/"
    assert finding.history.latest().history_user == agent
    page = agent_client.get(response["Location"])
    assert f"已转为工单 <a href=\"{finding.case_url}\">{case.number}</a>" in html(page)
    assert f'<a href="{finding.case_url}">{case.number}</a>' in html(page)
    assert "转为工单</button>" not in html(page)


def test_a_second_raise_opens_nothing_and_names_the_case(agent_client, log):
    interview = log(findings=[("complaint", "前台态度冷淡", "服务态度")])
    agent_client.post(raise_url(interview))
    case = Case.objects.get()
    response = agent_client.post(raise_url(interview))
    assert response.status_code == 409
    when = timezone.localtime(interview.findings.get().raised_at).strftime("%Y-%m-%d %H:%M")
    assert f"该问题已于 {when} 转为工单 {case.number}，不会重复立案" in text_of(response)
    assert Case.objects.count() == 1
    assert (case.kind, case.category.name) == ("complaint", "服务态度")


def test_the_receiver_finds_the_case_it_opened_before(agent, log):
    interview = log(findings=[("enquiry", "办证需要哪些材料", "")])
    finding = interview.findings.get()
    first = open_case_from_finding(Finding, finding=finding, interview=interview, user=agent)
    again = open_case_from_finding(Finding, finding=finding, interview=interview, user=agent)
    assert first == again and Case.objects.count() == 1
    assert Case.objects.get().category is None  # no hint, no category


def test_a_phone_interview_becomes_a_hotline_case(agent_client, log):
    interview = log(method="phone", findings=[("repair", "地漏返味", "")])
    agent_client.post(raise_url(interview))
    assert Case.objects.get().channel == "hotline"


def test_without_an_owner_the_interviewer_is_the_reporter(agent_client, log):
    interview = log(owner=None, findings=[("repair", "楼道灯不亮", "公区照明")])
    agent_client.post(raise_url(interview))
    case = Case.objects.get()
    assert (case.reporter_name, case.reporter_mobile, case.owner) == ("林晓燕", "13600136000", None)


def test_without_an_owner_nor_a_mobile_nothing_is_raised(client, member, log):
    no_mobile = member(AGENT, "no-mobile", first_name="黄磊")
    interview = log(user=no_mobile, owner=None, findings=[("repair", "楼道灯不亮", "")])
    client.force_login(no_mobile)
    response = client.post(raise_url(interview))
    assert response.status_code == 400
    assert "访谈人“黄磊”也没有登记手机号" in text_of(response)
    assert not Case.objects.exists()
    assert interview.findings.get().case_reference == ""


def test_the_case_desks_refusal_stores_nothing(client, member, log):
    """质量经理 may see and raise findings here, but may not register cases at the case desk."""
    colleague_interview = log(findings=[("repair", "窗户渗水", "")])
    client.force_login(member(QUALITY, "quality"))
    response = client.post(raise_url(colleague_interview))
    assert response.status_code == 403
    assert "您没有执行此操作的权限" in text_of(response)
    assert not Case.objects.exists() and colleague_interview.findings.get().case_reference == ""


def test_a_receiver_failing_after_the_case_was_opened_rolls_both_back(agent, log):
    interview = log(findings=[("repair", "窗户渗水", "")])

    def refuse(sender, **kwargs):
        raise ValidationError("另一个插件拒绝了")

    plugins.signals.interview_finding_raised.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(ValidationError):
            services.raise_finding(interview.findings.get(), agent)
    finally:
        plugins.signals.interview_finding_raised.disconnect(dispatch_uid="test.refuse")
    assert not Case.objects.exists()
    assert interview.findings.get().case_reference == ""


def test_staff_without_the_permission_cannot_raise(client, log, project):
    from tests.conftest import staff_with_perms

    interview = log(findings=[("repair", "窗户渗水", "")])
    viewer = staff_with_perms("interviews.view_interview", "cases.add_case", projects=[project])
    client.force_login(viewer)
    assert "转为工单</button>" not in html(client.get(url("inspect", interview.pk)))
    assert client.post(raise_url(interview)).status_code == 403
    assert not Case.objects.exists()


def test_another_projects_finding_is_not_found(client, member, other_project, log):
    interview = log(findings=[("repair", "窗户渗水", "")])
    client.force_login(member(AGENT, "far", projects=[other_project]))
    assert client.post(raise_url(interview)).status_code == 404
    with pytest.raises(services.InterviewNotFound):
        services.raise_finding(interview.findings.get(), member(AGENT, "far2", projects=[other_project]))
    assert not Case.objects.exists()


@pytest.fixture
def no_case_desk():
    """The case desk's receiver disconnected, as when the plugin is not enabled."""
    signal = plugins.signals.interview_finding_raised
    assert signal.disconnect(dispatch_uid="cases.open_case_from_finding")
    yield
    signal.connect(open_case_from_finding, dispatch_uid="cases.open_case_from_finding")


def test_without_the_case_desk_there_is_no_button_and_the_page_says_so(agent_client, log, no_case_desk):
    interview = log(findings=[("repair", "窗户渗水", "")])
    page = html(agent_client.get(url("inspect", interview.pk)))
    assert "客服工单插件未启用，发现的问题暂不能一键转为工单" in page
    assert "转为工单</button>" not in page
    response = agent_client.post(raise_url(interview))
    assert response.status_code == 400
    assert "客服工单插件未启用" in text_of(response)
    assert interview.findings.get().case_reference == ""


def test_the_signal_sends_the_documented_arguments(agent, log):
    from tests.plugins.test_signals import documented_arguments, documented_signals

    documented = documented_arguments(documented_signals()["interview_finding_raised"])
    assert documented == ["finding", "interview", "user"]
    interview = log(findings=[("repair", "窗户渗水", "")])
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    plugins.signals.interview_finding_raised.connect(receiver, dispatch_uid="test.documented")
    try:
        services.raise_finding(interview.findings.get(), agent)
    finally:
        plugins.signals.interview_finding_raised.disconnect(dispatch_uid="test.documented")
    ((sender, kwargs),) = received
    assert sender is Finding
    assert set(kwargs) - {"signal"} == set(documented)
    assert (kwargs["finding"].pk, kwargs["interview"], kwargs["user"]) == (
        interview.findings.get().pk, interview, agent)
