"""seed_demo adds demo cases in every state through the real verbs, once."""

import pytest
from django.core.management import call_command

from plugins.cases.demo import HISTORY_CASES, HISTORY_PREFIX, STATES_COVERED, STORIES
from plugins.cases.models import Case, CaseEvent, CaseRollup, ComplaintDigest


@pytest.mark.slow
def test_seed_demo_adds_cases_in_every_state_once(db):
    call_command("seed_demo", "--units", "300", verbosity=0)
    stories = Case.objects.filter(source__startswith="demo:")  # other plugins' demos add cases too
    assert stories.count() == len(STORIES)
    assert set(stories.values_list("status", flat=True)) == STATES_COVERED
    for case in stories:
        assert case.history.count() == case.events.filter(type=CaseEvent.Type.TRANSITION).count()
    assert stories.filter(original_contractor__isnull=False).exists()
    assert stories.filter(escalation_level__gt=0).exists()
    # Three years of history for the dashboard, in bulk; its figures and the morning's digest
    # are there without waiting for a sweep.
    history = Case.objects.filter(source__startswith=HISTORY_PREFIX)
    assert history.count() == HISTORY_CASES
    assert history.dates("registered_at", "month").count() >= 24
    assert CaseRollup.objects.filter(dimension="all").exists() and ComplaintDigest.objects.count() == 1
    cases, events = Case.objects.count(), CaseEvent.objects.count()
    call_command("seed_demo", "--units", "300", verbosity=0)
    assert Case.objects.count() == cases and CaseEvent.objects.count() == events
    assert ComplaintDigest.objects.count() == 1
