"""seed_demo adds demo cases in every state through the real verbs, once."""

import pytest
from django.core.management import call_command

from plugins.cases.demo import STATES_COVERED, STORIES
from plugins.cases.models import Case, CaseEvent


@pytest.mark.slow
def test_seed_demo_adds_cases_in_every_state_once(db):
    call_command("seed_demo", "--units", "300", verbosity=0)
    assert Case.objects.count() == len(STORIES)
    assert set(Case.objects.values_list("status", flat=True)) == STATES_COVERED
    for case in Case.objects.all():
        assert case.history.count() == case.events.filter(type=CaseEvent.Type.TRANSITION).count()
    assert Case.objects.filter(original_contractor__isnull=False).exists()
    assert Case.objects.filter(escalation_level__gt=0).exists()
    events = CaseEvent.objects.count()
    call_command("seed_demo", "--units", "300", verbosity=0)
    assert Case.objects.count() == len(STORIES) and CaseEvent.objects.count() == events
