"""First-time-fix rate per contractor and category, and deposit balances, from the cases."""

from decimal import Decimal

from plugins.cases import figures, services
from plugins.cases.models import Case
from tests.conftest import staff_with_perms

from .conftest import ALL_VERBS, contractor


def finish(case, agent, who, *, accepted=True, score=5):
    services.dispatch(case, agent, contractor=who)
    services.complete(case, agent, "已修好")
    services.sign_off(case, agent, accepted=accepted, reason="" if accepted else "还在漏")
    if accepted:
        services.callback(case, agent, reached=True, score=score)
    return case


def test_first_time_fix_counts_each_contractors_one_chance(new_case, agent, project, django_assert_num_queries):
    good, poor, rescuer = contractor(name="甲好"), contractor(name="乙差"), contractor(name="丙第三方")
    finish(new_case(), agent, good)
    finish(new_case(), agent, good)
    finish(new_case(), agent, good, score=2)  # reopened after a low call-back score
    finish(new_case(), agent, poor, accepted=False)  # rejected at sign-off
    handed = new_case()
    services.dispatch(handed, agent, contractor=poor)
    services.hand_to_third_party(handed, agent, rescuer, "超时未修")
    services.dispatch(new_case(), agent, contractor=good)  # still open: the chance is not over
    with django_assert_num_queries(1):
        rows = {row.label: row for row in figures.first_time_fix_by_contractor(Case.objects.all())}
    assert (rows["甲好"].repairs, rows["甲好"].first_time, rows["甲好"].third_party) == (3, 2, 0)
    assert (rows["乙差"].repairs, rows["乙差"].first_time, rows["乙差"].third_party) == (2, 0, 1)
    assert rows["甲好"].rate == 2 / 3 and rows["乙差"].rate == 0
    assert "丙第三方" not in rows  # the third party's work does not count as a first chance


def test_by_category_and_empty_input(new_case, agent):
    from plugins.cases.models import Category

    category = Category.objects.filter(kind="repair", parent__isnull=False).first()
    finish(new_case(category=category), agent, contractor(name="甲"))
    [row] = figures.first_time_fix_by_category(Case.objects.all())
    assert (row.label, row.repairs, row.first_time) == (category.name, 1, 1)
    assert figures.first_time_fix_by_contractor(Case.objects.none()) == []


def test_deposit_balance_follows_the_ledger(new_case, project):
    manager = staff_with_perms(*ALL_VERBS, "cases.add_depositcharge", projects=[project], username="qm")
    first = contractor(name="甲", warranty_deposit=Decimal("50000"))
    case = new_case()
    services.dispatch(case, manager, contractor=first)
    services.hand_to_third_party(case, manager, contractor(name="乙"), "一次机会已用完")
    charge = services.charge_deposit(case, manager, amount="1200", evidence="报价单")
    services.charge_deposit(case, manager, amount="300", evidence="材料费")
    services.correct_deposit_charge(charge, manager, "重复登记")
    deposit, charged, balance = figures.deposit_balances(type(first).objects.filter(pk=first.pk))[first.pk]
    assert (deposit, charged, balance) == (Decimal("50000"), Decimal("300"), Decimal("49700"))
