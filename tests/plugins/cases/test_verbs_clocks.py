"""The verbs move the clocks: each verb starts and stops what DOMAIN.md says, in its own
transaction, with DOMAIN.md's worked example 1 run through the real verbs."""

import datetime as dt

import pytest
import time_machine

from plugins.cases import services
from plugins.cases.models import CaseClock, Category
from tests.plugins.cases.conftest import contractor

SH = dt.timezone(dt.timedelta(hours=8))


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def running(case):
    return set(CaseClock.objects.filter(case=case, stopped_at__isnull=True).values_list("clock", flat=True))


def clock(case, kind):
    return CaseClock.objects.filter(case=case, clock=kind).latest("round")


def test_example_1_routine_repair_contact_clock_through_the_verbs(new_case, agent):
    with time_machine.travel(at(2026, 3, 10, 9, 0), tick=False):
        case = new_case(category=Category.objects.get(code="daily-plumbing"))
    assert running(case) == {"resolution"}
    assert clock(case, "resolution").due_at == at(2026, 3, 12, 9, 0)  # 48 h, 24×7
    with time_machine.travel(at(2026, 3, 10, 17, 20), tick=False):
        case = services.dispatch(case, agent, contractor=contractor())
    contact = clock(case, "contact")
    assert (contact.due_at, contact.remind_at) == (at(2026, 3, 11, 8, 50), at(2026, 3, 11, 8, 44))
    with time_machine.travel(at(2026, 3, 11, 8, 40), tick=False):
        services.record_contact(case, agent, reached=True, note="约明早上门")
    contact.refresh_from_db()
    assert contact.stopped_at == at(2026, 3, 11, 8, 40) and contact.breached_at is None


def test_complaint_clocks_and_the_department_reply(new_case, agent):
    with time_machine.travel(at(2026, 3, 14, 20, 0), tick=False):
        case = new_case(kind="complaint", category=Category.objects.get(code="complaint-attitude"))
    assert running(case) == {"acknowledgement", "answer", "department_reply", "resolution"}
    assert clock(case, "acknowledgement").due_at == at(2026, 3, 14, 22, 0)
    assert clock(case, "answer").due_at == at(2026, 3, 15, 20, 0)
    assert clock(case, "department_reply").due_at == at(2026, 3, 15, 19, 0)
    with time_machine.travel(at(2026, 3, 14, 21, 0), tick=False):
        case = services.accept(case, agent)
    assert "acknowledgement" not in running(case)
    with time_machine.travel(at(2026, 3, 15, 10, 0), tick=False):
        case = services.close(case, agent, "已答复")
    assert running(case) == {"callback", "recheck"}


def test_waiting_for_the_owner_pauses_the_clocks_and_parts_do_not(new_case, agent):
    with time_machine.travel(at(2026, 3, 9, 10, 0), tick=False):
        case = services.accept(new_case(category=Category.objects.get(code="daily-plumbing")), agent)
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        case = services.pause(case, agent, "owner")
    assert clock(case, "resolution").paused_since == at(2026, 3, 10, 10, 0)
    with time_machine.travel(at(2026, 3, 11, 16, 0), tick=False):
        case = services.resume(case, agent)
    resolution = clock(case, "resolution")
    assert resolution.paused_since is None and resolution.due_at == at(2026, 3, 12, 16, 0)  # example 3
    with time_machine.travel(at(2026, 3, 11, 17, 0), tick=False):
        case = services.pause(case, agent, "parts")
    assert clock(case, "resolution").paused_since is None


def test_completion_starts_the_call_back_and_a_low_score_reopens_resolution(new_case, agent):
    with time_machine.travel(at(2026, 4, 29, 9, 0), tick=False):
        case = services.dispatch(new_case(category=Category.objects.get(code="daily-plumbing")), agent,
                                 contractor=contractor())
    with time_machine.travel(at(2026, 4, 30, 15, 0), tick=False):
        case = services.complete(case, agent, "已修复")
    assert clock(case, "callback").due_at == at(2026, 5, 8, 15, 0)  # example 4: 3 working days
    assert "resolution" not in running(case)
    with time_machine.travel(at(2026, 5, 6, 10, 0), tick=False):
        case = services.sign_off(case, agent, accepted=True)
        case = services.callback(case, agent, reached=True, score=1, remark="仍漏水")
    assert running(case) >= {"resolution"} and "callback" not in running(case)
    assert clock(case, "resolution").round == 2


def test_a_refused_verb_leaves_the_clocks_alone(new_case, agent):
    case = new_case()
    before = list(CaseClock.objects.filter(case=case).values_list("clock", "stopped_at"))
    with pytest.raises(services.CaseRefused):
        services.complete(case, agent, "")
    assert list(CaseClock.objects.filter(case=case).values_list("clock", "stopped_at")) == before


def test_cancel_stops_every_clock(new_case, agent):
    case = services.cancel(new_case(kind="complaint"), agent, "重复登记")
    assert running(case) == set()
