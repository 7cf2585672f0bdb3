"""Capacity under real concurrency: threads with their own database connections race for the
last seats of a slot. PostgreSQL only (row locks); the top conftest deselects these on SQLite.

The tests commit for real (transaction=True); the flush after each removes the page tree the
migrations made, so the fixtures rebuild it (tests.portal.ensure_home).
"""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.test import Client
from django.urls import reverse

from home import opendays as services
from home.models import OpenDayRegistration
from home.opendays import Refusal
from tests.factories import ProjectFactory
from tests.home.test_opendays_fixtures import (  # noqa: F401 (fixtures)
    add_slot_page,
    clear_rate_limits,
    registration_form,
)
from tests.portal import add_project_page, build_portal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers):
    """Start every worker at the same moment (a barrier), each on its own thread and its own
    database connection; return their results in order."""
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(index, work):
        try:
            barrier.wait()
            results[index] = work()
        except Exception as error:  # noqa: BLE001 - reported to the test below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, work)) for index, work in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


@pytest.fixture
def project():
    portal = build_portal()
    project = ProjectFactory(code="HZ01", name="钱塘雅苑")
    add_project_page(portal, project)
    project.portal = portal
    return project


def seats(slot):
    return services.seats_taken(slot)


def register_work(slot, mobile, party_size):
    def work():
        return services.register(slot, "业主", mobile, "3幢1502", party_size)
    return work


def test_eight_owners_race_for_three_seats(project):
    slot = add_slot_page(project.portal, project, capacity=3, max_party=1)
    results = race([register_work(slot, f"1380000{n:04d}", 1) for n in range(8)])
    won = [r for r in results if isinstance(r, OpenDayRegistration)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(won) == 3 and len(refused) == 5, results
    assert {error.code for error in refused} == {Refusal.SLOT_FULL}
    assert seats(slot) == 3 == OpenDayRegistration.objects.filter(slot=slot).count()


def test_parties_race_for_the_last_seats_and_exactly_the_capacity_is_taken(project):
    slot = add_slot_page(project.portal, project, capacity=7, max_party=2)
    services.register(slot, "先到", "13900000000", "1幢0101", 1)  # 6 seats left for 2-person parties
    results = race([register_work(slot, f"1380000{n:04d}", 2) for n in range(6)])
    won = [r for r in results if isinstance(r, OpenDayRegistration)]
    assert len(won) == 3, results
    assert all(isinstance(r, (OpenDayRegistration, ValidationError)) for r in results), results
    assert seats(slot) == 7


def test_one_mobile_racing_itself_gets_one_registration(project):
    slot = add_slot_page(project.portal, project, capacity=20, max_party=1)
    results = race([register_work(slot, "13800138000", 1) for _ in range(5)])
    won = [r for r in results if isinstance(r, OpenDayRegistration)]
    assert len(won) == 1, results
    assert {r.code for r in results if isinstance(r, ValidationError)} == {Refusal.DUPLICATE_MOBILE}
    assert OpenDayRegistration.objects.filter(slot=slot).count() == 1


def test_parallel_requests_through_the_view_never_overbook(project):
    slot = add_slot_page(project.portal, project, capacity=2, max_party=1)
    url = reverse("openday_register", args=(slot.pk,))

    def request_work(n):
        def work():
            client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
            return client.post(url, registration_form(mobile=f"1380000{n:04d}", party_size="1")).status_code
        return work

    statuses = race([request_work(n) for n in range(6)])
    assert sorted(statuses) == [302, 302, 400, 400, 400, 400], statuses
    assert seats(slot) == 2
