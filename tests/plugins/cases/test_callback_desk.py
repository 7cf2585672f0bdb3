"""The call-back desk (回访台): three failed attempts end a call-back (services.callback), the
list of due call-backs and the one-screen call-back form (plugins/cases/callback_desk.py)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plugins.cases import clocks, services
from plugins.cases.models import CaseClock, Category, Status
from plugins.cases.services import Actor, CaseRefused
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, UnitFactory

from .conftest import ALL_VERBS, contractor
from .test_admin import assert_denied, html, sidebar_menu

SH = dt.timezone(dt.timedelta(hours=8))
LIST = "/admin/cases/callbacks/"
GIVEN_UP = "三次回访未接通，结束回访"


def at(day, hour=10, minute=0):
    """A moment in March 2026 (Shanghai), a month with working days only from Monday to Friday."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


def form_url(case):
    return reverse("cases_callback", args=(case.pk,))


@pytest.fixture
def fixer(project, other_project):
    return contractor(name="顺达维修")


@pytest.fixture
def signed_off(new_case, agent, fixer):
    """A repair completed at ``when`` (its call-back falls due 3 working days later) and signed
    off by the owner an hour after."""

    def make(when=None, **fields):
        when = when or at(2, 10)
        fields.setdefault("category", Category.objects.get(code="daily-plumbing"))
        with time_machine.travel(when - dt.timedelta(hours=2), tick=False):
            case = services.dispatch(new_case(**fields), agent, contractor=fixer)
        with time_machine.travel(when, tick=False):
            case = services.complete(case, agent, "已更换止水阀，试水无渗漏")
        with time_machine.travel(when + dt.timedelta(hours=1), tick=False):
            return services.sign_off(case, Actor.owner("王女士"), accepted=True)

    return make


@pytest.fixture
def caller(project):
    """A call-centre agent of HZ01 who may only call back."""
    return staff_with_perms("cases.callback_case", projects=[project], username="caller")


def callback_clock(case):
    return CaseClock.objects.filter(case=case, clock="callback").latest("round")


def fail(case, who, when, remark=""):
    with time_machine.travel(when, tick=False):
        return services.callback(case, who, reached=False, remark=remark)


def counts(case):
    return case.events.count(), case.history.count()


# --- Three failed attempts (services.callback) -----------------------------------------------------


def test_the_first_two_failed_attempts_are_numbered_and_change_nothing_else(signed_off, agent):
    case = signed_off()
    before = counts(case)
    first = fail(case, agent, at(3, 9), remark="无人接听")
    second = fail(case, agent, at(3, 15))
    assert (first.type, first.data, first.text) == ("call", {"reached": False, "attempt": 1}, "无人接听")
    assert (second.data, second.text) == ({"reached": False, "attempt": 2}, "未接通")
    case.refresh_from_db()
    assert case.status == Status.SIGNED_OFF and case.closed_at is None
    assert counts(case) == (before[0] + 2, before[1])  # two events, no history row
    assert callback_clock(case).stopped_at is None


def test_the_third_failed_attempt_ends_the_callback_and_closes_a_signed_off_repair(signed_off, agent):
    case = signed_off()
    fail(case, agent, at(3, 9))
    fail(case, agent, at(3, 15))
    before = counts(case)
    event = fail(case, agent, at(4, 9), remark="关机")
    assert event.data == {"reached": False, "attempt": 3, "given_up": True}
    assert GIVEN_UP in event.text and "关机" in event.text and not event.visible_to_owner
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.CLOSED, at(4, 9))
    assert counts(case) == (before[0] + 1, before[1] + 1)  # one event, one history row
    row = case.history.latest("history_id")
    assert row.history_change_reason == GIVEN_UP and row.history_user == agent
    clock = callback_clock(case)
    assert clock.stopped_at == at(4, 9) and clock.sweep_at is None
    assert services.CALLBACK_ATTEMPTS == 3


def test_attempts_of_an_earlier_round_do_not_count(signed_off, agent):
    case = signed_off()
    fail(case, agent, at(3, 9))
    fail(case, agent, at(3, 15))
    with time_machine.travel(at(4, 9), tick=False):
        case = services.reopen(case, agent, "业主来电说仍有渗水")
    with time_machine.travel(at(5, 10), tick=False):
        case = services.complete(case, agent, "重新打胶")
    with time_machine.travel(at(5, 11), tick=False):
        case = services.sign_off(case, agent, accepted=True)
    assert callback_clock(case).round == 2
    assert fail(case, agent, at(6, 9)).data == {"reached": False, "attempt": 1}
    assert fail(case, agent, at(6, 15)).data == {"reached": False, "attempt": 2}
    assert fail(case, agent, at(9, 9)).data["given_up"] is True
    case.refresh_from_db()
    assert case.status == Status.CLOSED


def test_a_closed_complaints_third_attempt_stops_its_callback_and_leaves_it_closed(new_case, agent):
    with time_machine.travel(at(2, 10), tick=False):
        case = services.close(services.accept(new_case(kind="complaint"), agent), agent, "已答复业主")
    closed_at = case.closed_at
    for n, hour in enumerate((11, 12, 13), start=1):
        event = fail(case, agent, at(2, hour))
        assert event.data["attempt"] == n
    assert event.data.get("given_up") is True
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.CLOSED, closed_at)
    assert callback_clock(case).stopped_at == at(2, 13)
    assert CaseClock.objects.get(case=case, clock="recheck").stopped_at is None  # the re-check still runs


def test_giving_up_is_all_or_nothing(signed_off, agent, monkeypatch):
    case = signed_off()
    fail(case, agent, at(3, 9))
    fail(case, agent, at(3, 15))
    before = counts(case)

    def broken(*args, **kwargs):
        raise RuntimeError("clock store down")

    monkeypatch.setattr(clocks, "on_event", broken)
    with pytest.raises(RuntimeError):
        fail(case, agent, at(4, 9))
    case.refresh_from_db()
    assert case.status == Status.SIGNED_OFF and counts(case) == before
    assert callback_clock(case).stopped_at is None


def test_a_reached_callback_after_failed_attempts_is_scored_as_usual(signed_off, agent):
    case = signed_off()
    fail(case, agent, at(3, 9))
    fail(case, agent, at(3, 15))
    with time_machine.travel(at(4, 9), tick=False):
        case = services.callback(case, agent, reached=True, score=4, remark="满意")
    assert case.status == Status.CLOSED and case.last_event.data["reached"] is True
    # Called again later (no call-back clock runs): the count starts again after that call-back.
    assert fail(case, agent, at(5, 9)).data == {"reached": False, "attempt": 1}


def test_another_projects_case_cannot_be_called_back(signed_off, other_project):
    outsider = staff_with_perms(*ALL_VERBS, projects=[other_project], username="outsider")
    case = signed_off()
    with pytest.raises(services.CaseNotFound):
        services.callback(case, outsider, reached=False)
    assert case.events.filter(verb="callback").count() == 0


# --- The list of due call-backs ----------------------------------------------------------------------


@pytest.fixture
def theirs(other_project, fixer):
    """A due call-back of SH02 (浦江云庭), done by SH02's own agent."""
    other_agent = staff_with_perms(*ALL_VERBS, projects=[other_project], username="other-agent")
    unit = UnitFactory(building=BuildingFactory(project=other_project, code="5"))
    with time_machine.travel(at(2, 8), tick=False):
        case = services.register(other_agent, kind="repair", channel="hotline", project=other_project, unit=unit,
                                 reporter_name="张先生", reporter_mobile="13700137000", description="外墙渗水",
                                 category=Category.objects.get(code="daily-plumbing"))
        services.dispatch(case, other_agent, contractor=fixer)
        services.complete(case, other_agent, "外墙打胶")
        return services.sign_off(case, other_agent, accepted=True)


def rows(response):
    assert response.status_code == 200, response.status_code
    return [row["case"].number for row in response.context["rows"]]


def test_the_list_shows_due_callbacks_of_the_users_projects_overdue_first(client, caller, signed_off, theirs,
                                                                         new_case, agent):
    later = signed_off(at(3, 10), reporter_name="李先生", reporter_mobile="13900139000")
    first = signed_off(at(2, 10))  # due Thursday 5 March 10:00
    fail(first, agent, at(4, 9))
    with time_machine.travel(at(2, 10), tick=False):
        services.complete(services.dispatch(new_case(), agent, contractor=contractor()), agent, "已修")  # not signed off
    done = signed_off(at(2, 11))
    with time_machine.travel(at(3, 9), tick=False):
        services.callback(done, agent, reached=True, score=5)  # called back already
    client.force_login(caller)
    with time_machine.travel(at(5, 12), tick=False):
        response = client.get(LIST)
    assert rows(response) == [first.number, later.number]
    page = html(response)
    assert "13900139000" in page and "李先生" in page and "钱塘雅苑" in page
    assert form_url(first) in page and reverse("wagtailsnippets_cases_case:inspect", args=(first.pk,)) in page
    first_row, later_row = response.context["rows"]
    assert (first_row["overdue"], later_row["overdue"]) == (True, False)
    assert (first_row["clock"].attempts, later_row["clock"].attempts) == (1, 0)
    assert first_row["clock"].due_at == at(5, 10) and first_row["done_at"] == at(2, 10)
    assert "已超时" in page and "外墙渗水" not in page and "13700137000" not in page


def test_the_menu_item_counts_the_due_callbacks(client, caller, signed_off, theirs, project):
    signed_off()
    client.force_login(caller)
    assert sidebar_menu(client.get("/admin/"))["回访台（1）"] == LIST
    nobody = staff_with_perms("cases.handle_case", projects=[project], username="handler")
    client.force_login(nobody)
    assert not any(label.startswith("回访台") for label in sidebar_menu(client.get("/admin/")))


def test_the_desk_needs_the_callback_permission(client, project, signed_off):
    case = signed_off()
    assert client.get(LIST).status_code == 302  # not signed in: to the login page
    client.force_login(staff_with_perms("cases.handle_case", "cases.view_case", projects=[project], username="handler"))
    assert_denied(client.get(LIST))
    assert_denied(client.get(form_url(case)))
    assert_denied(client.post(form_url(case), {"reached": "yes", "score": "5"}))
    assert case.events.filter(verb="callback").count() == 0


def test_the_list_query_count_does_not_grow_with_its_rows(client, caller, signed_off, django_assert_max_num_queries):
    client.force_login(caller)

    def list_page(**params):
        client.get(LIST, params)  # the menu's counts are cached from here on
        with django_assert_max_num_queries(12) as queries:
            response = client.get(LIST, params)
        return response, len(queries)

    for n in range(2):
        signed_off(at(2 + n % 3, 10), reporter_mobile=f"1380013{n:04d}")
    response, few = list_page()
    assert len(response.context["rows"]) == 2
    for n in range(2, 40):
        signed_off(at(2 + n % 3, 10), reporter_mobile=f"1380013{n:04d}")
    response, many = list_page()
    assert len(response.context["rows"]) == 25 and many == few
    response, _ = list_page(p=2)
    assert len(response.context["rows"]) == 15
    assert [row["clock"].due_at for row in response.context["rows"]] == sorted(
        row["clock"].due_at for row in response.context["rows"])


# --- The call-back form --------------------------------------------------------------------------------


def test_the_form_shows_the_case_the_work_and_earlier_attempts(client, caller, signed_off, agent):
    case = signed_off()
    fail(case, agent, at(3, 9), remark="无人接听")
    client.force_login(caller)
    with time_machine.travel(at(3, 12), tick=False):
        response = client.get(form_url(case))
    assert response.status_code == 200
    page = html(response)
    for text in ("卫生间天花板漏水", "已更换止水阀，试水无渗漏", "顺达维修", "无人接听", "13800138000",
                 "满意度评分", "是否接通"):
        assert text in page, text
    assert response.context["attempts"] == 1
    assert [item["event"].verb for item in response.context["owner_timeline"]][-2:] == ["complete", "sign_off"]


def test_a_reached_callback_goes_on_to_the_next_due_one(client, caller, signed_off):
    first, second, third = signed_off(at(2, 10)), signed_off(at(3, 10)), signed_off(at(4, 10))
    client.force_login(caller)
    response = client.post(form_url(second), {"reached": "yes", "score": "5", "remark": "很满意"})
    assert response.status_code == 302 and response["Location"] == form_url(third)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"工单 {second.number} 回访已记录。"]
    second.refresh_from_db()
    assert second.status == Status.CLOSED
    event = second.events.latest("pk")
    assert (event.actor_user, event.data["score"], event.text) == (caller, 5, "很满意")
    response = client.post(form_url(third), {"reached": "no", "remark": "无人接听"})
    assert response["Location"] == LIST  # nothing due after it
    assert third.events.latest("pk").data == {"reached": False, "attempt": 1}
    assert callback_clock(first).stopped_at is None


def test_the_third_failed_attempt_through_the_form(client, caller, signed_off, agent):
    case = signed_off()
    fail(case, agent, at(3, 9))
    fail(case, agent, at(3, 15))
    client.force_login(caller)
    response = client.post(form_url(case), {"reached": "no"}, follow=True)
    assert f"工单 {case.number}：三次回访未接通，已结束回访。" in html(response)
    case.refresh_from_db()
    assert case.status == Status.CLOSED


def test_a_low_score_through_the_form_reopens(client, caller, signed_off):
    case = signed_off()
    client.force_login(caller)
    response = client.post(form_url(case), {"reached": "yes", "score": "2", "remark": "仍渗水"}, follow=True)
    assert "低于 3 分，工单已重开并升级" in html(response)
    case.refresh_from_db()
    assert (case.status, case.escalation_level) == (Status.IN_PROGRESS, 1)


@pytest.mark.parametrize("score", ["0", "6", "x", ""])
def test_a_bad_score_when_reached_is_refused_and_changes_nothing(client, caller, signed_off, score):
    case = signed_off()
    before = counts(case)
    client.force_login(caller)
    response = client.post(form_url(case), {"reached": "yes", "score": score, "remark": "满意"})
    assert response.status_code == 400
    assert "请给出 1 到 5 分的满意度评分。" in html(response)
    case.refresh_from_db()
    assert case.status == Status.SIGNED_OFF and counts(case) == before


def test_a_missing_answer_to_reached_is_refused(client, caller, signed_off):
    case = signed_off()
    client.force_login(caller)
    response = client.post(form_url(case), {"score": "5"})
    assert response.status_code == 400 and list(response.context["form"].errors) == ["reached"]
    assert case.events.filter(verb="callback").count() == 0


def test_a_refusal_from_the_service_shows_the_form_again(client, caller, signed_off, monkeypatch):
    case = signed_off()

    def refuse(*args, **kwargs):
        raise CaseRefused("工单当前状态不能回访。", code="state")

    monkeypatch.setattr(services, "callback", refuse)
    client.force_login(caller)
    response = client.post(form_url(case), {"reached": "yes", "score": "4"})
    assert response.status_code == 400 and "工单当前状态不能回访。" in html(response)
    assert response.context["form"] is not None


def test_another_projects_case_is_a_404(client, caller, theirs):
    client.force_login(caller)
    assert client.get(form_url(theirs)).status_code == 404
    assert client.post(form_url(theirs), {"reached": "yes", "score": "5"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.SIGNED_OFF and theirs.events.filter(verb="callback").count() == 0


def test_a_case_that_no_longer_needs_a_callback_says_so(client, caller, signed_off, agent):
    case = services.callback(signed_off(), agent, reached=True, score=5)
    before = counts(case)
    client.force_login(caller)
    response = client.get(form_url(case))
    assert response.status_code == 200 and response.context["form"] is None
    assert "当前不需要回访" in html(response)
    response = client.post(form_url(case), {"reached": "yes", "score": "5"})
    assert response.status_code == 400 and "当前不需要回访" in html(response)
    assert counts(case) == before


def test_the_form_page_query_count_is_bounded(client, caller, signed_off, agent, django_assert_max_num_queries):
    case = signed_off()
    for n in range(2):
        fail(case, agent, at(3, 9 + n))
    for n in range(30):
        services.add_note(case, agent, f"第 {n} 条备注", visible_to_owner=True)
    client.force_login(caller)
    client.get(form_url(case))
    with django_assert_max_num_queries(16):
        response = client.get(form_url(case))
    assert len(response.context["owner_timeline"]) == 10
