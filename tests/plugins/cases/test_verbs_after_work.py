"""Verbs after the work: contact, owner sign-off, call-back, close, reopen, escalate and the
one-chance hand-over to a third-party contractor."""

import pytest

from plugins.cases import services
from plugins.cases.models import Status
from plugins.cases.services import Actor, CaseRefused
from tests.plugins.cases.conftest import contractor


@pytest.fixture
def completed(new_case, agent):
    case = new_case()
    case = services.dispatch(case, agent, contractor=contractor(name="顺达维修"))
    case = services.start(case, agent)
    return services.complete(case, agent, "已更换止水阀")


def counts(case):
    return case.events.count(), case.history.count()


def test_contact_is_a_call_on_the_timeline(new_case, agent):
    case = services.dispatch(new_case(), agent, contractor=contractor())
    event = services.record_contact(case, agent, reached=True, note="约周六上午上门")
    assert (event.type, event.verb, event.data) == ("call", "contact", {"reached": True})
    with pytest.raises(CaseRefused):
        services.record_contact(case, agent, reached=False)  # an unreached call needs a note
    assert counts(case) == (3, 2)


def test_accepted_sign_off_then_good_callback_closes_a_repair(completed, agent):
    case = services.sign_off(completed, Actor.owner("王女士"), accepted=True)
    assert case.status == Status.SIGNED_OFF
    case = services.callback(case, agent, reached=True, score=5, remark="很满意")
    assert case.status == Status.CLOSED and case.closed_at is not None
    assert counts(case) == (6, 6)  # register, dispatch, start, complete, sign-off, call-back


def test_rejected_sign_off_reopens_and_escalates(completed):
    with pytest.raises(CaseRefused):
        services.sign_off(completed, Actor.owner("王女士"), accepted=False)  # needs a reason
    case = services.sign_off(completed, Actor.owner("王女士"), accepted=False, reason="仍然渗水")
    assert (case.status, case.escalation_level) == (Status.IN_PROGRESS, 1)
    row = case.history.latest("history_id")
    assert row.history_user is None and "王女士" in row.history_change_reason and "仍然渗水" in row.history_change_reason


def test_low_callback_score_reopens_and_escalates(completed, agent):
    case = services.sign_off(completed, agent, accepted=True)
    case = services.callback(case, agent, reached=True, score=2, remark="师傅态度差")
    assert (case.status, case.escalation_level, case.closed_at) == (Status.IN_PROGRESS, 1, None)
    assert case.events.latest("pk").data == {"reached": True, "score": 2, "reopened": True}


@pytest.mark.parametrize("score", [None, 0, 6, "五"])
def test_callback_score_must_be_1_to_5(completed, agent, score):
    case = services.sign_off(completed, agent, accepted=True)
    with pytest.raises(CaseRefused) as refused:
        services.callback(case, agent, reached=True, score=score)
    assert refused.value.code == "score"


def test_unreached_callback_is_an_attempt_only(completed, agent):
    case = services.sign_off(completed, agent, accepted=True)
    services.callback(case, agent, reached=False)
    case.refresh_from_db()
    assert case.status == Status.SIGNED_OFF and counts(case) == (6, 5)


def test_a_repair_closes_only_after_sign_off_but_a_complaint_once_answered(new_case, completed, agent):
    with pytest.raises(CaseRefused) as refused:
        services.close(completed, agent)
    assert refused.value.code == "state"
    complaint = services.accept(new_case(kind="complaint"), agent)
    assert services.close(complaint, agent, "已向业主说明整改计划").status == Status.CLOSED
    assert services.callback(complaint, agent, reached=True, score=4).status == Status.CLOSED


def test_reopen_and_escalate_need_reasons_and_stop_at_level_3(completed, agent):
    with pytest.raises(CaseRefused):
        services.reopen(completed, agent, "")
    case = services.reopen(completed, agent, "业主反映仍有异响")
    assert case.status == Status.IN_PROGRESS
    for level in (1, 2, 3):
        case = services.escalate(case, agent, "超时未处理")
        assert case.escalation_level == level
    with pytest.raises(CaseRefused):
        services.escalate(case, agent, "再升级")
    assert case.escalation_level == 3


def test_hand_to_third_party_keeps_the_original_contractor(new_case, agent):
    first = contractor(name="顺达维修")
    case = services.start(services.dispatch(new_case(), agent, contractor=first), agent)
    third = contractor(name="安诚修缮")
    with pytest.raises(CaseRefused):
        services.hand_to_third_party(case, agent, first, "返修失败")  # the same contractor
    case = services.hand_to_third_party(case, agent, third, "一次维修未成功")
    assert (case.status, case.contractor, case.original_contractor) == (Status.DISPATCHED, third, first)
    again = services.hand_to_third_party(case, agent, contractor(name="第三家"), "仍未修好")
    assert again.original_contractor == first  # the one who had the chance stays on record


def test_only_repairs_go_to_third_parties(new_case, agent):
    complaint = services.dispatch(new_case(kind="complaint"), agent, contractor=contractor())
    with pytest.raises(CaseRefused) as refused:
        services.hand_to_third_party(complaint, agent, contractor(), "转办")
    assert refused.value.code == "kind"
