"""seed_demo's interviews: about 60 over the past year by six demo staff, some findings, a few
raised as cases through the real one-click raise; once (a second run adds nothing)."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from plugins.cases.models import Case
from plugins.interviews import demo
from plugins.interviews.models import Finding, Interview


@pytest.fixture
def registry(db):
    call_command("seed_demo", "--units", "300", "--registry-only", verbosity=0)


def test_the_small_demo_once(registry):
    made = demo.seed_interviews()
    assert made == Interview.objects.count() == sum(row[-1] for row in demo.SMALL_STAFF) == 60
    today = timezone.localdate()
    assert all(0 <= (today - day).days < 365 for day in Interview.objects.values_list("date", flat=True))
    assert Interview.objects.values("interviewer").distinct().count() == 6
    assert Interview.objects.filter(owner__isnull=False).exists() and Interview.objects.filter(owner__isnull=True).exists()
    assert Finding.objects.count() >= 20
    raised = Finding.objects.exclude(case_reference="")
    assert 1 <= raised.count() <= demo.RAISED
    for finding in raised:
        assert Case.objects.get(source=f"interviews.finding:{finding.pk}").number == finding.case_reference
    for interview in Interview.objects.all()[:5]:
        assert interview.history.count() == 1
    counts = (Interview.objects.count(), Finding.objects.count(), Case.objects.count())
    assert demo.seed_interviews() == 0
    assert (Interview.objects.count(), Finding.objects.count(), Case.objects.count()) == counts


def test_the_large_demo_adds_its_part_once(registry):
    demo.seed_interviews(size="large")
    bulk = Interview.objects.filter(interviewer__username__startswith=demo.LARGE_PREFIX)
    assert bulk.count() == demo.LARGE_INTERVIEWS
    assert bulk.values("interviewer").distinct().count() == demo.LARGE_STAFF
    assert Interview.history.count() == Interview.objects.count()
    assert Finding.objects.filter(interview__in=bulk).count() > demo.LARGE_INTERVIEWS // 10
    total = Interview.objects.count()
    demo.seed_interviews(size="large")
    demo.seed_interviews()
    assert Interview.objects.count() == total


def test_seed_demo_runs_it_through_the_plugin(db):
    call_command("seed_demo", "--units", "300", verbosity=0)
    assert Interview.objects.count() == 60
    call_command("seed_demo", "--units", "300", verbosity=0)
    assert Interview.objects.count() == 60
