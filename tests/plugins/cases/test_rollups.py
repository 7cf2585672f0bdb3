"""Monthly roll-ups: computed from the cases, clocks and events; kept current by marks that
the services leave and the sweep consumes; and every figure equal to its drill-down list."""

import datetime as dt

import pytest
from django.utils import timezone

from plugins.cases import clocks, drilldown, rollups, services
from plugins.cases.models import Case, CaseClock, CaseRollup, ClockKind, Dimension, RollupMark, RollupState
from tests.factories import UnitFactory

from .conftest import contractor


def finish(case, agent, who, *, accepted=True, score=5):
    services.dispatch(case, agent, contractor=who)
    services.record_contact(case, agent, reached=True)
    services.complete(case, agent, "已修好")
    services.sign_off(case, agent, accepted=accepted, reason="" if accepted else "还在漏")
    if accepted:
        services.callback(case, agent, reached=True, score=score)
    return Case.objects.get(pk=case.pk)


def whole(month=None):
    month = month or rollups.month_of(timezone.now())
    rows = CaseRollup.objects.filter(month=month, dimension=Dimension.ALL)
    total = {name: sum(getattr(row, name) for row in rows) for name in
             ("cases_in", "closed", "open", "repairs", "repairs_counted", "first_time", "third_party", "repeats",
              "scored", "score_total", "low_scores")}
    total["clocks"] = {}
    for row in rows:
        for clock in ClockKind.values:
            decided, met = getattr(row, f"{clock}_decided"), getattr(row, f"{clock}_met")
            if decided:
                pair = total["clocks"].setdefault(clock, [0, 0])
                pair[0] += decided
                pair[1] += met
    return total


@pytest.fixture
def story(new_case, agent, project, unit):
    """Five repairs and a complaint: two fixed first time (scores 5 and 2), one rejected at
    sign-off, one handed to a third party, one still open; the complaint answered."""
    good, poor, rescuer = contractor(name="甲好"), contractor(name="乙差"), contractor(name="丙")
    finish(new_case(), agent, good)
    finish(new_case(), agent, good, score=2)
    finish(new_case(), agent, poor, accepted=False)
    handed = new_case()
    services.dispatch(handed, agent, contractor=poor)
    services.hand_to_third_party(handed, agent, rescuer, "超时未修")
    services.dispatch(new_case(), agent, contractor=good)
    complaint = new_case(kind="complaint", unit=UnitFactory(building=unit.building))
    services.accept(complaint, agent)
    services.answer(complaint, agent, "已安排工程部复查")
    return {"good": good, "poor": poor, "rescuer": rescuer}


def test_rebuild_counts_the_cohort(story, project):
    rollups.rebuild()
    total = whole()
    assert total["cases_in"] == 6 and total["repairs"] == 5
    # Counted: the three completed and the one handed over; the open one is not decided yet.
    assert (total["repairs_counted"], total["first_time"], total["third_party"]) == (4, 1, 1)
    assert (total["scored"], total["score_total"], total["low_scores"]) == (2, 7, 1)
    stopped = CaseClock.objects.filter(clock="contact", stopped_at__isnull=False)
    # Contacted in time on the three completed repairs, stopped by the hand-over on the fourth.
    assert stopped.count() == 4 and not stopped.filter(breached_at__isnull=False).exists()
    assert total["clocks"]["contact"] == [4, 4]
    assert total["clocks"]["answer"] == [1, 1]
    assert RollupState.objects.get().rebuilt_at is not None


def test_breakdowns_add_up_to_the_whole(story):
    rollups.rebuild()
    month = rollups.month_of(timezone.now())
    all_rows = CaseRollup.objects.filter(month=month)
    total = sum(row.cases_in for row in all_rows if row.dimension == Dimension.ALL)
    for dimension in (Dimension.KIND, Dimension.CATEGORY, Dimension.CHANNEL, Dimension.CONTRACTOR,
                      Dimension.DEPARTMENT):
        assert sum(row.cases_in for row in all_rows if row.dimension == dimension) == total
    by_holder = {row.key: row for row in all_rows if row.dimension == Dimension.CONTRACTOR}
    poor = by_holder[str(story["poor"].pk)]
    # The third party's work counts for the contractor that had the one chance.
    assert (poor.repairs_counted, poor.first_time, poor.third_party) == (2, 0, 1)
    assert str(story["rescuer"].pk) not in by_holder


def test_every_change_marks_its_cohort_and_the_sweep_refreshes_it(new_case, agent):
    rollups.rebuild()
    case = new_case()
    assert RollupMark.objects.filter(project_id=case.project_id, month=rollups.month_of(case.registered_at)).exists()
    assert whole()["cases_in"] == 0  # not yet: the roll-up lags until the sweep
    assert rollups.refresh() == 1
    assert whole()["cases_in"] == 1 and not RollupMark.objects.exists()
    assert rollups.refresh() == 0  # nothing marked, nothing redone


def test_a_breach_recorded_by_the_sweep_reaches_the_figures(new_case, agent):
    rollups.rebuild()
    case = new_case()
    services.dispatch(case, agent, contractor=contractor(name="甲"))
    rollups.refresh()
    assert "contact" not in whole()["clocks"]  # running and not late: not decided
    result = clocks.sweep(now=timezone.now() + dt.timedelta(days=10))  # past any weekend or holiday
    # Counted in place in the sweep's transaction: nothing marked, nothing recomputed.
    assert result.breached >= 1 and result.cohorts == 0 and not RollupMark.objects.exists()
    assert whole()["clocks"]["contact"] == [1, 0]


def _rows():
    return sorted(CaseRollup.objects.values_list(
        "month", "project_id", "dimension", "key", "open", "late_open",
        *[f"{clock}_{what}" for clock in ClockKind.values for what in ("decided", "met")]))


def test_breaches_counted_in_place_equal_a_recompute(story, new_case, agent):
    """Several breaches of one case (late counted once), a case already late from an earlier
    sweep, and a closed case's clocks: the in-place counts are what a rebuild computes."""
    services.dispatch(new_case(), agent, contractor=contractor(name="丁"))
    complaint = new_case(kind="complaint")
    services.accept(complaint, agent)
    rollups.rebuild()
    clocks.sweep(now=timezone.now() + dt.timedelta(days=1))
    clocks.sweep(now=timezone.now() + dt.timedelta(days=10))
    clocks.sweep(now=timezone.now() + dt.timedelta(days=40))
    assert CaseClock.objects.filter(breached_at__isnull=False).values("case").distinct().count() >= 3
    swept = _rows()
    assert sum(row[5] for row in swept if row[2] == Dimension.ALL) >= 3  # late open cases
    rollups.rebuild()
    assert swept == _rows()


def test_a_breach_in_a_cohort_not_yet_computed_waits_for_its_mark(new_case, agent):
    rollups.rebuild()
    case = new_case()
    services.dispatch(case, agent, contractor=contractor(name="甲"))
    # The sweep's breaches find no row of the new cohort; its pending mark brings them in.
    clocks.sweep(now=timezone.now() + dt.timedelta(days=10))
    assert whole()["clocks"]["contact"] == [1, 0] and whole()["cases_in"] == 1
    swept = _rows()
    rollups.rebuild()
    assert swept == _rows()


def test_refresh_builds_everything_the_first_time(new_case):
    new_case()
    assert not RollupState.objects.exists()
    rollups.refresh()
    assert whole()["cases_in"] == 1


def test_cohorts_are_by_registration_month_in_shanghai(agent, project, unit):
    # 2026-09-30 17:00 UTC is 1 October 01:00 in Shanghai.
    when = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    services.register(agent, kind="repair", channel="hotline", project=project, unit=unit, reporter_name="王女士",
                      reporter_mobile="13800138000", description="漏水", when=when)
    rollups.rebuild()
    assert CaseRollup.objects.get(dimension=Dimension.ALL).month == dt.date(2026, 10, 1)


def test_durations_are_bucketed(story):
    rollups.rebuild()
    row = CaseRollup.objects.get(dimension=Dimension.ALL)
    assert sum(row.durations["case:repair"].values()) == Case.objects.filter(kind="repair", status="closed").count()
    assert rollups.bucket(0) == 0 and rollups.bucket(29.9) == 4 and rollups.bucket(30) == 5
    assert rollups.bucket(10**7) == len(rollups.EDGES) - 1


FIGURE_COUNTS = {
    "closed": "closed", "open": "open", "repairs": "repairs", "counted": "repairs_counted",
    "first_time": "first_time", "third_party": "third_party", "repeat": "repeats", "low_score": "low_scores",
}


def test_each_figure_counts_the_cases_its_drill_down_lists(story, project):
    rollups.rebuild()
    total = whole()
    month = rollups.month_of(timezone.now())
    cohort = Case.objects.filter(registered_at__gte=rollups.month_start(month),
                                 registered_at__lt=rollups.month_start(rollups.next_month(month)))
    for slug, counter in FIGURE_COUNTS.items():
        assert drilldown.apply(cohort, slug).count() == total[counter], slug
    assert (drilldown.apply(cohort, "counted").count() - drilldown.apply(cohort, "first_time").count()
            == drilldown.apply(cohort, "not_first_time").count())
    for clock, (decided, met) in total["clocks"].items():
        assert drilldown.apply(cohort, f"clock_decided:{clock}").count() == decided, clock
        assert drilldown.apply(cohort, f"clock_met:{clock}").count() == met, clock
        assert drilldown.apply(cohort, f"clock_late:{clock}").count() == decided - met, clock
    holder = str(story["poor"].pk)
    row = CaseRollup.objects.get(dimension=Dimension.CONTRACTOR, key=holder)
    assert drilldown.apply_holder(cohort, int(holder)).count() == row.cases_in


def test_a_case_counts_once_per_clock_and_a_late_second_round_makes_it_late(new_case, agent):
    case = new_case()
    services.dispatch(case, agent, contractor=contractor(name="甲"))
    services.record_contact(case, agent, reached=True)  # the first round, in time
    rollups.rebuild()
    assert whole()["clocks"]["contact"] == [1, 1]
    assert clocks.start(case, ClockKind.CONTACT, again=True).round == 2  # called again, say
    clocks.sweep(now=timezone.now() + dt.timedelta(days=10))
    # The sweep's breach of the second round turned the case's "met" into "late" in place.
    assert whole()["clocks"]["contact"] == [1, 0]
    swept = _rows()
    rollups.rebuild()
    assert swept == _rows()
    # The drill-down lists count the same cases.
    listed = {what: drilldown.apply(Case.objects.all(), f"{what}:contact").count()
              for what in ("clock_decided", "clock_met", "clock_late")}
    assert listed == {"clock_decided": 1, "clock_met": 0, "clock_late": 1}
