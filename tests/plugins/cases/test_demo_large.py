"""The large demo's case generator (plugins/cases/demo_large.py), run with a small count: the
same code that writes 1,000,000 cases for ``seed_demo --size large``, on SQLite here and on
PostgreSQL when DATABASE_URL names one (COPY there, executemany here)."""

import datetime as dt
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Max, Min

from plugins.cases import clocks, demo, demo_large, services
from plugins.cases.models import Case, CaseClock, CaseCounter, CaseEvent, ClockKind, Status
from plugins.cases.models.choices import OPEN_STATUSES

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=SH)
COUNT = 2000
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"^(BX|TS|ZX)(\d{8})-(\d{4,})$")

pytestmark = pytest.mark.slow


@pytest.fixture
def registry(db):
    """The first 300 units of the demo registry (handed over in 2025), with owners."""
    call_command("seed_demo", "--units", "300", "--registry-only", verbosity=0)


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """2,000 cases generated once for the class, inside a transaction rolled back after it (each
    test's own changes roll back to a savepoint inside it)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", "--units", "300", "--registry-only", verbosity=0)
            summary = demo_large.seed_large(count=COUNT, now=NOW)
            assert summary.created == COUNT
            yield summary
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.usefixtures("db")
class TestTwoThousandCases:
    """The generated cases, checked from every side."""

    def test_statuses_follow_the_dates_and_the_timeline(self, seeded):
        _statuses_follow_the_dates_and_the_timeline(seeded)

    def test_open_cases_have_the_clocks_the_engine_would_give_them(self, seeded):
        _open_cases_have_the_clocks_the_engine_would_give_them(seeded)

    def test_numbers_are_unique_the_counters_agree_and_registration_continues(self, seeded):
        _numbers_are_unique_the_counters_agree_and_registration_continues(seeded)

    def test_descriptions_are_chinese_varied_and_searchable(self, seeded):
        _descriptions_are_chinese_varied_and_searchable(seeded)

    def test_no_unit_gathers_the_cases_of_a_gap_between_handovers(self, seeded):
        from django.db.models import Count

        busiest = Case.objects.filter(unit__isnull=False).values("unit").annotate(n=Count("pk")).order_by("-n").first()["n"]
        assert busiest <= COUNT * 0.02, busiest  # 300 units: about 7 each on average

    def test_a_second_run_adds_nothing(self, seeded):
        cases, events, clocks_count = Case.objects.count(), CaseEvent.objects.count(), CaseClock.objects.count()
        again = demo_large.seed_large(count=COUNT, now=NOW)
        assert again.skipped and again.created == 0
        assert (Case.objects.count(), CaseEvent.objects.count(), CaseClock.objects.count()) == (
            cases, events, clocks_count)


def _statuses_follow_the_dates_and_the_timeline(seeded):
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert sum(statuses.values()) == COUNT
    assert dict(statuses) == {str(k): v for k, v in seeded.statuses.items()}
    open_count = sum(statuses[s] for s in OPEN_STATUSES)
    assert 0.07 * COUNT <= open_count <= 0.13 * COUNT  # about 10 % open
    assert 0.015 * COUNT <= statuses[Status.CANCELLED] <= 0.05 * COUNT
    assert statuses[Status.CLOSED] > 0.75 * COUNT
    assert all(statuses[s] > 0 for s in OPEN_STATUSES)

    span = Case.objects.aggregate(first=Min("registered_at"), last=Max("registered_at"))
    assert span["last"] <= NOW and span["first"] >= NOW - dt.timedelta(days=3 * 365 + 1)
    assert (span["last"] - span["first"]).days > 365  # spread over years, not days
    for case in Case.objects.all():
        times = [t for t in (case.registered_at, case.dispatched_at, case.completed_at, case.closed_at) if t]
        assert times == sorted(times) and times[-1] <= NOW, case.number
        if case.status in (Status.CLOSED, Status.CANCELLED):
            assert case.closed_at is not None
        else:
            assert case.closed_at is None
        if case.status == Status.PAUSED:
            assert case.pause_reason and case.paused_from
        repaired = case.status == Status.CLOSED and case.kind == "repair"
        if case.status in (Status.COMPLETED, Status.SIGNED_OFF) or repaired:
            assert case.completed_at is not None
        if case.unit_id:
            assert case.unit.project_id == case.project_id and case.building_id == case.unit.building_id
    assert Case.objects.filter(kind="repair", unit__isnull=True, building__isnull=False).exists()  # public areas
    assert Case.objects.filter(contractor__isnull=False).exists()
    assert Case.objects.filter(department__isnull=False).exists()

    # Each timeline starts with the registration and its transitions end in the case's status.
    events = {}
    for case_id, verb, type_, from_status, to_status, created in CaseEvent.objects.order_by(
        "case_id", "created_at", "pk"
    ).values_list("case_id", "verb", "type", "from_status", "to_status", "created_at"):
        events.setdefault(case_id, []).append((verb, type_, from_status, to_status, created))
    assert len(events) == COUNT
    assert 2 <= CaseEvent.objects.count() / COUNT <= 7
    for case_id, status in Case.objects.values_list("pk", "status"):
        timeline = events[case_id]
        assert timeline[0][0] == "register"
        transitions = [e for e in timeline if e[1] == CaseEvent.Type.TRANSITION]
        for before, after in zip(transitions, transitions[1:]):
            assert after[2] == before[3]  # each transition starts where the last one ended
        assert transitions[-1][3] == status
        assert all(e[4] <= NOW for e in timeline)


def _open_cases_have_the_clocks_the_engine_would_give_them(seeded):
    now = NOW.astimezone(dt.timezone.utc)
    in_hand = Case.objects.exclude(status__in=[Status.CLOSED, Status.CANCELLED])
    running = CaseClock.objects.filter(stopped_at__isnull=True)
    assert set(running.values_list("case_id", flat=True).distinct()) == set(in_hand.values_list("pk", flat=True))
    assert not CaseClock.objects.filter(case__status__in=[Status.CLOSED, Status.CANCELLED]).exists()
    assert seeded.running_clocks == running.count() and seeded.clocks == CaseClock.objects.count()

    calendars = {}
    for clock in CaseClock.objects.select_related("case", "calendar").order_by("case_id", "started_at", "pk"):
        case = clock.case
        assert clock.policy_id == clocks.policy_for(case).pk
        assert clock.started_at >= case.registered_at and clock.started_at <= now
        if clock.stopped_at is None:
            if clock.paused_since is not None:
                assert case.status == Status.PAUSED and clock.sweep_at is None
            else:
                assert clock.sweep_at == clocks.next_sweep(clock)
                assert clock.sweep_at is None or clock.sweep_at >= now  # what was due is done
            assert case.escalation_level >= clock.escalation_level
        # Due, reminder and escalation times are the engine's arithmetic on the real calendar.
        if clock.paused_total == dt.timedelta(0):
            key = (clock.calendar_id, clock.started_at.year)
            if key not in calendars:
                calendars[key] = clocks.Calendars(clock.started_at)(clock.calendar)
            reference = None
            if clock.before_clock:
                reference = CaseClock.objects.get(case=case, clock=clock.before_clock, round=1)
            again = CaseClock(amount=clock.amount, unit=clock.unit, before_clock=clock.before_clock,
                              remind_percent=clock.remind_percent, started_at=clock.started_at)
            clocks._schedule(again, calendars[key], reference)
            if clock.breached_at is None and clock.before_clock == "":
                assert (again.due_at, again.remind_at, again.escalate_at) == (
                    clock.due_at, clock.remind_at, clock.escalate_at)
    # Working-hours clocks are among them (a routine repair's contact on the office calendar).
    assert CaseClock.objects.filter(calendar__always=False).exists()
    assert CaseClock.objects.filter(clock=ClockKind.RESOLUTION, stopped_at__isnull=True).exists()
    assert CaseClock.objects.filter(stopped_at__isnull=True, breached_at__isnull=False).exists()
    assert Case.objects.filter(escalation_level__gt=0).exists()

    # Everything due by now was done while generating: a sweep now has nothing to do; later it has.
    result = clocks.sweep(now=now)
    assert (result.reminded, result.breached, result.escalated) == (0, 0, 0)
    later = clocks.sweep(now=now + dt.timedelta(days=3))
    assert later.reminded + later.breached + later.escalated > 0


def _numbers_are_unique_the_counters_agree_and_registration_continues(seeded):
    numbers = list(Case.objects.values_list("number", "kind", "registered_at"))
    assert len({n for n, _k, _r in numbers}) == COUNT
    prefixes = {"repair": "BX", "complaint": "TS", "enquiry": "ZX"}
    last = {}
    for number, kind, registered in numbers:
        prefix, day, seq = NUMBER.match(number).groups()
        assert prefix == prefixes[kind]
        assert day == f"{registered.astimezone(SH):%Y%m%d}"
        key = (kind, dt.datetime.strptime(day, "%Y%m%d").date())
        last[key] = max(last.get(key, 0), int(seq))
    counters = {(c.kind, c.day): c.last for c in CaseCounter.objects.all()}
    assert counters == last
    # Numbers within a day follow registration order.
    ordered = list(Case.objects.filter(kind="repair").order_by("registered_at", "pk").values_list("number", flat=True))
    by_day = {}
    for number in ordered:
        by_day.setdefault(number[2:10], []).append(int(number[11:]))
    assert all(seqs == sorted(seqs) for seqs in by_day.values())

    # No history rows: bulk writes skip simple-history (STACK-NOTES §3).
    assert Case.history.count() == 0

    # The next registration on a busy day gets the next number.
    (kind, day), top = max(last.items(), key=lambda item: item[1])
    case = Case.objects.filter(kind=kind).select_related("project", "unit").first()
    when = dt.datetime.combine(day, dt.time(12, 0), SH)
    new = services.register(
        services.Actor.system("测试"), kind=kind, channel="hotline", project=case.project, unit=case.unit,
        reporter_name="王女士", reporter_mobile="13800138000", description="厨房水槽下水慢。", when=when,
    )
    assert new.number == f"{prefixes[kind]}{day:%Y%m%d}-{top + 1:04d}"


def _descriptions_are_chinese_varied_and_searchable(seeded):
    descriptions = list(Case.objects.values_list("description", "search_words"))
    assert all(CJK.search(text) for text, _words in descriptions)
    assert len({text for text, _words in descriptions}) > 100
    assert Case.objects.filter(description__contains="地漏返水").exists()
    assert Case.objects.filter(description__contains="开裂").exists()
    words_for = demo_large._words_for()
    assert seeded.search_words == (words_for is not None)
    if words_for is None:  # plugins/cases/search.py not there yet: nothing filled
        assert all(words == "" for _text, words in descriptions)
        return
    for text, words in descriptions[:200]:
        assert words == words_for(text)
    from plugins.cases import search

    if _search_index_installed(search):
        found = set(search.matching(Case.objects.all(), "漏水").values_list("pk", flat=True))
        assert found == set(Case.objects.filter(description__contains="漏水").values_list("pk", flat=True))
        assert found


def _search_index_installed(search):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [search.PG_INDEX])
        else:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [search.FTS_TABLE])
        return cursor.fetchone() is not None


def test_the_same_inputs_give_the_same_cases_built_here_or_in_a_forked_process(registry):
    def snapshot():
        return (
            list(Case.objects.order_by("pk").values_list("number", "status", "description", "registered_at",
                                                         "escalation_level", "search_words")),
            list(CaseEvent.objects.order_by("pk").values_list("case__number", "verb", "created_at")),
            list(CaseClock.objects.order_by("pk").values_list("case__number", "clock", "due_at", "sweep_at")),
            sorted(CaseCounter.objects.values_list("kind", "day", "last")),
        )

    here = demo_large.seed_large(count=300, now=NOW, parallel=False)
    first = snapshot()
    Case.objects.all().delete()
    CaseCounter.objects.all().delete()
    forked = demo_large.seed_large(count=300, now=NOW, parallel=True)
    assert snapshot() == first
    assert (forked.created, forked.events, forked.clocks, dict(forked.statuses)) == (
        here.created, here.events, here.clocks, dict(here.statuses))


def test_indexes_dropped_for_the_load_are_all_rebuilt(registry):
    before = _indexes()
    demo_large.seed_large(count=500, now=NOW, defer_indexes=True)
    assert Case.objects.count() == 500
    assert _indexes() == before
    with connection.cursor() as cursor:  # and they serve the queries
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN SELECT id FROM cases_caseclock WHERE stopped_at IS NULL "
                           "AND sweep_at <= %s ORDER BY sweep_at, id", [NOW.isoformat()])
            assert "case_clock_sweep" in " ".join(str(row) for row in cursor.fetchall())


def _indexes():
    tables = ["cases_case", "cases_caseevent", "cases_caseclock"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN (%s, %s, %s)",
                           tables)
        return sorted(cursor.fetchall())


def test_the_large_hook_adds_the_stories_and_the_count_from_the_environment(registry, monkeypatch):
    monkeypatch.setenv(demo_large.COUNT_ENV, "400")
    demo.seed_cases(size="large")
    assert Case.objects.filter(source__startswith="demo:").count() == len(demo.STORIES)
    assert Case.objects.filter(source__startswith=demo_large.SOURCE_PREFIX).count() == 400
    demo.seed_cases(size="large")
    assert Case.objects.count() == len(demo.STORIES) + 400
    # The stories' numbers and the bulk numbers share the counters without a clash.
    assert Case.objects.values("number").distinct().count() == Case.objects.count()


def test_seed_demo_size_large_runs_the_generator_once(db, monkeypatch):
    monkeypatch.setenv(demo_large.COUNT_ENV, "300")
    call_command("seed_demo", "--size", "large", "--units", "300", "--verbosity", "0")
    assert Case.objects.filter(source__startswith=demo_large.SOURCE_PREFIX).count() == 300
    assert Case.objects.filter(source__startswith="demo:").count() == len(demo.STORIES)
    call_command("seed_demo", "--size", "large", "--units", "300", "--verbosity", "0")
    assert Case.objects.count() == 300 + len(demo.STORIES)
    # The small demo stays as it was: no bulk cases.
    Case.objects.filter(source__startswith=demo_large.SOURCE_PREFIX).delete()
    call_command("seed_demo", "--units", "300", "--verbosity", "0")
    assert not Case.objects.filter(source__startswith=demo_large.SOURCE_PREFIX).exists()


def test_case_count_reads_the_environment(monkeypatch):
    monkeypatch.delenv(demo_large.COUNT_ENV, raising=False)
    assert demo_large.case_count() == 1_000_000
    monkeypatch.setenv(demo_large.COUNT_ENV, "2_000")
    assert demo_large.case_count() == 2000
    monkeypatch.setenv(demo_large.COUNT_ENV, "0")
    with pytest.raises(ValueError):
        demo_large.case_count()
