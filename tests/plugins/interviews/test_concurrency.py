"""A double click on "转为工单": two requests raise the same finding at the same moment, each on
its own connection. The finding's row lock makes the second wait for the first and then find it
raised: one case, and the second answer names it (PostgreSQL row locks)."""

import threading

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from plugins.cases.defaults import create_all
from plugins.cases.models import Case
from plugins.interviews import services
from plugins.interviews.models import Finding
from tests.conftest import staff_with_perms
from tests.factories import BuildingFactory, OwnerFactory, OwnershipFactory, ProjectFactory, UnitFactory

from .conftest import url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PERMS = ("interviews.add_interview", "cases.add_case")


def run_together(*calls):
    """Start every call at the same moment, each on its own connection; return results and errors."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # collected for the assertion
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


@pytest.fixture
def finding():
    create_all(apps)  # the flush of a transactional test removed the shipped defaults
    project = ProjectFactory(code="HZ01")
    unit = UnitFactory(building=BuildingFactory(project=project))
    owner = OwnershipFactory(unit=unit, owner=OwnerFactory(name="王秀英", mobile="13900139000")).owner
    agent = staff_with_perms(*PERMS, projects=[project], username="agent")
    interview = services.log_interview(agent, project=project, unit=unit, owner=owner, method="visit",
                                       topics="入住体验", findings=[("repair", "窗户渗水", "门窗")])
    return interview.findings.get(), agent


@pytest.mark.parametrize("attempt", range(3))
def test_a_double_click_opens_one_case(finding, attempt):
    finding, agent = finding
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(agent)
    target = url("raise", finding.interview_id, finding.pk)
    results, errors = run_together(*(lambda client=client: client.post(target) for client in clients))
    assert errors == []
    assert sorted(response.status_code for response in results) == [302, 409]
    case = Case.objects.get()
    assert case.source == f"interviews.finding:{finding.pk}"
    finding = Finding.objects.get(pk=finding.pk)
    assert finding.case_reference == case.number
    assert finding.history.count() == 2  # created, raised — once
    (second,) = [response for response in results if response.status_code == 409]
    assert case.number in second.content.decode()


def test_two_raises_through_the_service_at_once(finding):
    finding, agent = finding
    results, errors = run_together(lambda: services.raise_finding(finding.pk, agent),
                                   lambda: services.raise_finding(finding.pk, agent))
    assert errors == []
    assert sorted(raised_now for _finding, raised_now in results) == [False, True]
    assert Case.objects.count() == 1
