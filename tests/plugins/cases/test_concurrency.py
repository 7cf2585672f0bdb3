"""Two staff acting on one case at the same moment never lose an update: the verbs lock the
row, so the second waits for the first and works on what it wrote (PostgreSQL row locks)."""

import threading

import pytest
from django.apps import apps
from django.db import connection

from plugins.cases import services
from plugins.cases.defaults import create_all
from plugins.cases.models import Case, CaseEvent
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, ProjectFactory, UnitFactory
from tests.plugins.cases.conftest import contractor as serving_contractor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VERBS = ("cases.add_case", "cases.handle_case", "cases.dispatch_case", "cases.manage_case")


def run_together(*calls):
    """Start every call at the same moment, each on its own connection; return their errors."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as error:  # collected for the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


@pytest.fixture
def case():
    create_all(apps)  # the flush of a transactional test removed the shipped defaults
    project = ProjectFactory(code="HZ01")
    unit = UnitFactory(building=BuildingFactory(project=project))
    agent = staff_with_perms(*VERBS, projects=[project], username="agent")
    return services.register(agent, kind="repair", channel="hotline", project=project, unit=unit,
                             reporter_name="王女士", reporter_mobile="13800138000", description="漏水"), agent


@pytest.mark.parametrize("attempt", range(3))
def test_dispatch_and_escalate_at_once_both_stick(case, attempt):
    case, agent = case
    other = staff_with_perms(*VERBS, projects=[case.project], username=f"other{attempt}")
    contractor = serving_contractor()
    errors = run_together(
        lambda: services.dispatch(case, agent, contractor=contractor),
        lambda: services.escalate(case, other, "业主多次来电"),
    )
    assert errors == []
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.contractor, case.escalation_level) == ("dispatched", contractor, 1)
    assert set(case.events.values_list("verb", flat=True)) == {"register", "dispatch", "escalate"}
    assert case.history.count() == 3


def test_two_accepts_at_once_one_wins_the_other_is_refused(case):
    case, agent = case
    other = staff_with_perms(*VERBS, projects=[case.project], username="other")
    errors = run_together(lambda: services.accept(case, agent), lambda: services.accept(case, other))
    assert len(errors) == 1 and isinstance(errors[0], services.CaseRefused)
    assert CaseEvent.objects.filter(case=case, verb="accept").count() == 1
    assert Case.objects.get(pk=case.pk).history.count() == 2
