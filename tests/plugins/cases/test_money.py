"""Compensation (赔付) with a second person's approval, and the warranty-deposit ledger of
third-party costs (the one-chance rule)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from plugins.cases import services
from plugins.cases.models import CaseEvent, Compensation, DepositCharge
from tests.conftest import staff_with_perms

from .conftest import ALL_VERBS, contractor

MONEY = ("cases.add_compensation", "cases.approve_compensation", "cases.add_depositcharge")


@pytest.fixture
def manager(project):
    return staff_with_perms(*ALL_VERBS, *MONEY, projects=[project], username="manager")


@pytest.fixture
def deputy(project):
    return staff_with_perms(*ALL_VERBS, *MONEY, projects=[project], username="deputy")


def test_compensation_is_requested_then_approved_by_someone_else(new_case, manager, deputy):
    case = new_case()
    compensation = services.request_compensation(case, manager, amount="1,200.50", reason="泡坏木地板")
    assert (compensation.state, compensation.amount) == ("requested", Decimal("1200.50"))
    decided = services.decide_compensation(compensation, deputy, approve=True)
    assert (decided.state, decided.decided_by) == ("approved", deputy)
    verbs = list(case.events.values_list("verb", flat=True))
    assert verbs[-2:] == ["compensation", "compensation_decision"]
    assert compensation.history.count() == 2
    assert compensation.history.first().history_user == deputy


def test_the_requester_cannot_approve_their_own_compensation(new_case, manager):
    compensation = services.request_compensation(new_case(), manager, amount=500, reason="误工")
    with pytest.raises(services.CaseRefused, match="申请人以外"):
        services.decide_compensation(compensation, manager, approve=True)
    compensation.refresh_from_db()
    assert compensation.state == "requested"


def test_the_database_refuses_self_approval_too(new_case, manager):
    compensation = services.request_compensation(new_case(), manager, amount=500, reason="误工")
    compensation.decided_by = manager
    with pytest.raises(IntegrityError), transaction.atomic():
        compensation.save()


def test_a_decision_is_made_once_and_a_rejection_needs_a_reason(new_case, manager, deputy):
    compensation = services.request_compensation(new_case(), manager, amount=80, reason="清洁费")
    with pytest.raises(services.CaseRefused, match="审批意见"):
        services.decide_compensation(compensation, deputy, approve=False)
    services.decide_compensation(compensation, deputy, approve=False, note="不属于赔付范围")
    with pytest.raises(services.CaseRefused, match="已驳回"):
        services.decide_compensation(compensation, deputy, approve=True)


@pytest.mark.parametrize("amount", ["", "abc", "0", "-5", "1.234", "10000000", "NaN", "Infinity"])
def test_bad_amounts_are_refused_with_a_message(new_case, manager, amount):
    case = new_case()
    with pytest.raises(services.CaseRefused) as refused:
        services.request_compensation(case, manager, amount=amount, reason="x")
    assert "金额" in refused.value.messages[0]
    assert not Compensation.objects.exists()


def test_approval_needs_the_permission(new_case, manager, agent):
    compensation = services.request_compensation(new_case(), manager, amount=100, reason="x")
    with pytest.raises(services.CaseRefused, match="权限"):
        services.decide_compensation(compensation, agent, approve=True)


def test_another_projects_staff_cannot_approve(new_case, manager, other_project):
    compensation = services.request_compensation(new_case(), manager, amount=100, reason="x")
    outsider = staff_with_perms(*ALL_VERBS, *MONEY, projects=[other_project], username="outsider")
    with pytest.raises(services.CaseNotFound):
        services.decide_compensation(compensation, outsider, approve=True)


def handed_over(new_case, manager):
    first, third = contractor(name="甲建筑"), contractor(name="乙维修")
    case = new_case()
    services.dispatch(case, manager, contractor=first)
    services.hand_to_third_party(case, manager, third, reason="业主验收不通过，原单位已用完一次机会")
    case.refresh_from_db()
    return case, first, third


def test_a_third_party_cost_is_charged_to_the_original_contractor(new_case, manager):
    case, first, third = handed_over(new_case, manager)
    charge = services.charge_deposit(case, manager, amount="860", evidence="乙维修报价单及完工照片")
    assert (charge.contractor, charge.third_party, charge.amount) == (first, third, Decimal("860.00"))
    assert case.events.filter(verb="deposit_charge").count() == 1


def test_no_charge_without_a_hand_over(new_case, manager):
    case = new_case()
    with pytest.raises(services.CaseRefused, match="第三方"):
        services.charge_deposit(case, manager, amount="10", evidence="x")
    assert not DepositCharge.objects.exists()


def test_the_ledger_is_corrected_by_a_new_line_never_edited(new_case, manager):
    case, first, _ = handed_over(new_case, manager)
    charge = services.charge_deposit(case, manager, amount="300", evidence="报价单")
    correction = services.correct_deposit_charge(charge, manager, reason="金额录错")
    assert correction.amount == Decimal("-300.00") and correction.corrects == charge
    with pytest.raises(services.CaseRefused, match="已冲正"):
        services.correct_deposit_charge(charge, manager, reason="再次")
    with pytest.raises(Exception):
        charge.delete()
    charge.amount = 1
    with pytest.raises(Exception):
        charge.save()


def test_evidence_files_are_attached_to_the_case(new_case, manager):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case, *_ = handed_over(new_case, manager)
    pdf = SimpleUploadedFile("报价单.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "application/pdf")
    services.charge_deposit(case, manager, amount="50", evidence="报价单", uploads=[pdf])
    attachment = case.attachments.get()
    assert (attachment.purpose, attachment.content_type, attachment.visible_to_owner) == (
        "evidence", "application/pdf", False)
    assert case.events.filter(type=CaseEvent.Type.FILE).count() == 1


def test_dispatch_refuses_a_contractor_or_person_not_on_the_project(new_case, manager, other_project):
    from tests.factories import ContractorFactory

    case = new_case()
    elsewhere = ContractorFactory(name="外地公司", projects=[other_project])
    retired = contractor(name="已退场公司", active=False)
    outsider = staff_with_perms(*ALL_VERBS, projects=[other_project], username="far")
    for kwargs, message in (({"contractor": elsewhere}, "未在本项目合作"), ({"contractor": retired}, "未在本项目合作"),
                            ({"assignee": outsider}, "不负责本项目")):
        with pytest.raises(services.CaseRefused, match=message):
            services.dispatch(case, manager, **kwargs)
    case.refresh_from_db()
    assert case.status == "registered" and case.events.count() == 1
