"""The verbs that stop the remaining clocks (on site, answer, department reply, re-check) and
the repeat-repair rule."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from plugins.cases import services
from plugins.cases.models import Case, CaseClock, Category, SLAPolicy

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def running(case, clock):
    return CaseClock.objects.filter(case=case, clock=clock, stopped_at__isnull=True).exists()


def test_on_site_stops_the_on_site_clock_and_starts_the_work(new_case, agent):
    case = new_case(priority="emergency")
    services.dispatch(case, agent, assignee=agent)
    assert running(case, "on_site")
    case = services.on_site(case, agent)
    assert case.status == "in_progress" and not running(case, "on_site")
    assert case.history.count() == 3 and case.events.last().verb == "on_site"


def test_answer_and_department_reply_stop_their_clocks(new_case, agent):
    case = new_case(kind="complaint", description="物业保安态度恶劣")
    services.accept(case, agent)
    assert running(case, "department_reply") and running(case, "answer")
    services.department_reply(case, agent, "工程部：已安排班组明早上门")
    assert not running(case, "department_reply") and running(case, "answer")
    event = services.answer(case, agent, "您好，已安排明早 9 点上门处理。")
    assert not running(case, "answer") and event.visible_to_owner
    case.refresh_from_db()
    assert case.history.count() == 2  # register, accept: answering changes no field


def test_recheck_after_a_complaint_is_closed(new_case, agent):
    case = new_case(kind="complaint", description="电梯噪音")
    services.accept(case, agent)
    services.answer(case, agent, "已处理")
    with pytest.raises(services.CaseRefused, match="不能现场复核"):
        services.recheck(case, agent, "复核正常")
    services.close(case, agent)
    assert running(case, "recheck")
    services.recheck(case, agent, "电梯运行平稳，业主认可")
    assert not running(case, "recheck")


@pytest.mark.parametrize("verb, kind", [("answer", "repair"), ("on_site", "complaint"), ("recheck", "enquiry")])
def test_verbs_of_other_kinds_are_refused(new_case, agent, verb, kind):
    case = new_case(kind=kind)
    assert not services.possible(verb, case)
    with pytest.raises(services.CaseRefused, match="工单不能"):
        getattr(services, verb)(case, agent, "x")


def leak(db):
    return Category.objects.get(code="repair.daily.plumbing") if Category.objects.filter(
        code="repair.daily.plumbing").exists() else Category.objects.filter(kind="repair", parent__isnull=False).first()


def test_the_same_unit_and_category_within_90_days_is_a_repeat(new_case, db):
    category = leak(db)
    with time_machine.travel(T0, tick=False):
        first = new_case(category=category)
    with time_machine.travel(T0 + dt.timedelta(days=89), tick=False):
        second = new_case(category=category)
    assert second.repeat_of == first and second.escalation_level == 1
    event = second.events.get(verb="repeat")
    assert first.number in event.text and not event.visible_to_owner


def test_after_90_days_or_another_category_it_is_not(new_case, db):
    category = leak(db)
    other = Category.objects.filter(kind="repair", parent__isnull=False).exclude(pk=category.pk).first()
    with time_machine.travel(T0, tick=False):
        new_case(category=category)
    with time_machine.travel(T0 + dt.timedelta(days=91), tick=False):
        late = new_case(category=category)
        elsewhere = new_case(category=other)
    assert late.repeat_of is None and elsewhere.repeat_of is None
    assert late.escalation_level == 0


def test_the_window_is_set_per_policy(new_case, db):
    category = leak(db)
    SLAPolicy.objects.filter(kind="repair").update(repeat_window_days=0)
    with time_machine.travel(T0, tick=False):
        new_case(category=category)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        again = new_case(category=category)
    assert again.repeat_of is None


def test_a_cancelled_case_does_not_make_a_repeat(new_case, agent, db):
    category = leak(db)
    with time_machine.travel(T0, tick=False):
        first = new_case(category=category)
        services.cancel(first, agent, "业主打错电话")
    with time_machine.travel(T0 + dt.timedelta(days=3), tick=False):
        assert new_case(category=category).repeat_of is None
    assert Case.objects.count() == 2 and timezone.now()


@pytest.fixture
def quality_manager(project):
    from django.contrib.auth.models import Group

    from tests.conftest import staff_with_perms

    user = staff_with_perms("cases.view_case", projects=[project], username="qm", )
    user.groups.add(Group.objects.get(name="质量经理"))
    return user


def quality_messages():
    from notifications.models import Message

    return Message.objects.filter(key__contains=":quality:")


def test_a_rejected_sign_off_and_a_low_score_reach_the_quality_manager(new_case, agent, quality_manager):
    case = new_case()
    services.dispatch(case, agent, assignee=agent)
    services.complete(case, agent, "已修")
    services.sign_off(case, agent, accepted=False, reason="墙面还有水渍")
    assert {m.user for m in quality_messages()} == {quality_manager}
    assert "墙面还有水渍" in quality_messages().first().body
    services.complete(case, agent, "再次修复")
    services.sign_off(case, agent, accepted=True)
    services.callback(case, agent, reached=True, score=2, remark="态度差")
    assert quality_messages().values("key").distinct().count() == 2


def test_a_repeat_repair_reaches_the_quality_manager_once(new_case, quality_manager, db):
    category = leak(db)
    with time_machine.travel(T0, tick=False):
        new_case(category=category)
    with time_machine.travel(T0 + dt.timedelta(days=5), tick=False):
        repeat = new_case(category=category)
    [message] = quality_messages().filter(channel="admin")
    assert message.key == f"case:{repeat.pk}:quality:repeat" and "重复报修" in message.body


def test_without_a_quality_manager_nobody_else_is_spammed(new_case, agent, db):
    category = leak(db)
    with time_machine.travel(T0, tick=False):
        new_case(category=category)
        new_case(category=category)
    assert not quality_messages().exists()  # the agent has no supervisor: nobody to tell
