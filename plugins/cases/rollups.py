"""Keeping the monthly roll-ups of case figures (models/rollups.py) equal to the cases.

* ``mark(case)`` — called by services for every timeline event, inside its transaction: the
  case's cohort (project, registration month) is stale.
* ``count_breaches(clocks)`` — called by the sweep for the breaches it records, in the same
  transaction: adds them to the roll-ups in place (a breach only makes its case late for that
  clock and, if open, late now), so a sweep with thousands of breaches recomputes nothing.
* ``refresh()`` — called by the sweep: recomputes the marked cohorts, a month at a time, and
  deletes the marks it read. With no roll-up built yet it rebuilds everything.
* ``rebuild()`` — recomputes every cohort (after a bulk import or the large demo, which write
  cases without the services).

A cohort is recomputed from its cases in three reads (cases, the events the figures need, the
clocks), whatever the number of cohorts: a month of every project at once.
"""

import bisect
import datetime as dt
import zoneinfo
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Min, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from .models import Case, CaseClock, CaseEvent, CaseRollup, Dimension, RollupMark, RollupState
from .models.choices import OPEN_STATUSES, ClockKind, Kind, Status

CLOCK_KINDS = frozenset(ClockKind.values)

#: Duration buckets in minutes: bucket i holds [EDGES[i], EDGES[i+1]); the last is open-ended.
EDGES = (0, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440, 2160, 2880, 3600, 4320,
         5760, 7200, 10080, 14400, 20160, 30240, 43200, 86400)

#: Marks read per refresh; more wait for the next sweep.
MARKS_PER_REFRESH = 20000


def zone():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def month_of(moment):
    return timezone.localtime(moment, zone()).date().replace(day=1)


def next_month(month):
    return (month + dt.timedelta(days=32)).replace(day=1)


def month_start(month):
    """The aware moment the month (a date, day 1) begins in the local zone."""
    return dt.datetime.combine(month, dt.time.min, tzinfo=zone())


def bucket(minutes):
    return max(bisect.bisect_right(EDGES, minutes) - 1, 0)


def mark(case):
    """The cohort of ``case`` is stale (one INSERT in the caller's transaction)."""
    RollupMark.objects.create(project_id=case.project_id, month=month_of(case.registered_at))


def mark_pairs(pairs):
    """Mark the cohorts of (project id, registration time) pairs: bulk writes (the historic-case
    import) that bypass the services."""
    cohorts = {(project_id, month_of(registered_at)) for project_id, registered_at in pairs}
    RollupMark.objects.bulk_create([RollupMark(project_id=p, month=m) for p, m in cohorts])


def count_breaches(clocks):
    """Add clocks the sweep has just recorded as breached (their ``breached_at`` already
    written, ``clock.case`` loaded) to the roll-ups of their cases' cohorts: each breach is one
    late decision in every row the case counts in (``clock_outcomes``: a case counts once per
    clock kind, so a breach of a case whose other round of that kind was on time turns a "met"
    into a late one, and one already late for that kind changes nothing), and an open case with
    no breached running clock before becomes late. One read and one UPDATE per distinct change.

    Exact because recomputing is absolute: a cohort whose rows are missing or stale has a mark
    pending (every change to a case leaves one), and its recompute reads the breach from the
    clocks. Runs under the sweep's lock, like ``refresh``; ``rebuild`` takes the same lock."""
    clocks = [clock for clock in clocks if clock.clock in CLOCK_KINDS]
    if not clocks:
        return 0
    cases = {clock.case_id: clock.case for clock in clocks}
    # The cases' other rounds that were decided before these breaches.
    earlier = defaultdict(list)
    for case_id, *row in (CaseClock.objects.filter(case_id__in=list(cases))
                          .filter(Q(stopped_at__isnull=False) | Q(breached_at__isnull=False))
                          .exclude(pk__in=[clock.pk for clock in clocks])
                          .values_list("case_id", "clock", "stopped_at", "breached_at")):
        earlier[case_id].append(row)
    outcomes = {case_id: clock_outcomes(rows) for case_id, rows in earlier.items()}
    were_late = {case_id for case_id, rows in earlier.items()
                 if any(stopped is None for _clock, stopped, breached in rows if breached is not None)}
    changes = defaultdict(lambda: defaultdict(int))  # (month, project, dimension, key) -> {column: n}
    for clock in clocks:
        case = clock.case
        late = case.status in OPEN_STATUSES and case.pk not in were_late
        were_late.add(case.pk)
        outcome = outcomes.setdefault(case.pk, {})
        was = outcome.get(clock.clock)  # None: undecided; True: on time so far; False: late already
        outcome[clock.clock] = False
        columns = {f"{clock.clock}_decided": was is None, f"{clock.clock}_met": -(was is True), "late_open": late}
        month = month_of(case.registered_at)
        for dimension, key in _cohort_keys(case.kind, case.category_id, case.channel,
                                           case.original_contractor_id or case.contractor_id, case.department_id):
            change = changes[(month, case.project_id, dimension, key)]
            for column, n in columns.items():
                change[column] += n
    rows = (CaseRollup.objects.filter(month__in={key[0] for key in changes},
                                      project_id__in={key[1] for key in changes})
            .values_list("pk", "month", "project_id", "dimension", "key"))
    by_change = defaultdict(list)
    for pk, *key in rows:
        change = changes.get(tuple(key))
        if change:
            by_change[tuple(sorted((column, n) for column, n in change.items() if n))].append(pk)
    for change, pks in by_change.items():
        # Never below zero: a row can only lack what it takes away while its cohort has a mark
        # pending, and that cohort's recompute at the end of this sweep makes it exact.
        CaseRollup.objects.filter(pk__in=pks).update(
            **{column: F(column) + n if n > 0 else Greatest(F(column) + n, 0) for column, n in change})
    return len(clocks)


def clock_outcomes(rows):
    """{clock kind: on time} for one case's clock rows (kind, …, stopped_at, breached_at): a
    case counts once per kind, as its drill-down list does. The kind is decided once a round
    stopped or breached, and on time while no round breached (a reopened case's second round
    that runs late makes the case late for that clock)."""
    outcome = {}
    for clock, *_rest, stopped, breached in rows:
        if breached is not None:
            outcome[clock] = False
        elif stopped is not None:
            outcome.setdefault(clock, True)
    return outcome


def _cohort_keys(kind, category_id, channel, holder, department_id):
    """The (dimension, key) rows of its cohort a case counts in."""
    return ((Dimension.ALL, ""), (Dimension.KIND, kind), (Dimension.CATEGORY, _key(category_id)),
            (Dimension.CHANNEL, channel), (Dimension.CONTRACTOR, _key(holder)),
            (Dimension.DEPARTMENT, _key(department_id)))


# --- Computing -----------------------------------------------------------------------------------


class _Counts:
    __slots__ = ("cases_in", "closed", "cancelled", "open", "late_open", "repairs", "repairs_counted", "first_time",
                 "third_party", "repeats", "scored", "score_total", "low_scores", "clocks", "durations")

    def __init__(self):
        for name in self.__slots__[:-2]:
            setattr(self, name, 0)
        self.clocks = defaultdict(lambda: [0, 0])
        self.durations = defaultdict(lambda: defaultdict(int))

    def row(self, month, project_id, dimension, key, with_durations):
        values = {name: getattr(self, name) for name in self.__slots__[:-2]}
        for clock, (decided, met) in self.clocks.items():
            if clock in CLOCK_KINDS:
                values[f"{clock}_decided"], values[f"{clock}_met"] = decided, met
        durations = ({measure: {str(b): n for b, n in sorted(buckets.items())}
                      for measure, buckets in self.durations.items()} if with_durations else {})
        return CaseRollup(month=month, project_id=project_id, dimension=dimension, key=key,
                          durations=durations, **values)


def _minutes(delta):
    return delta.total_seconds() / 60


def compute(month, project_ids=None, now=None):
    """[CaseRollup] (unsaved) for the cohorts of ``month`` in ``project_ids`` (None: every
    project). Three queries."""
    from .figures import FAILED  # both import the services, which import this module
    from .services import LOW_SCORE

    start, end = month_start(month), month_start(next_month(month))
    cases = Case.objects.filter(registered_at__gte=start, registered_at__lt=end)
    if project_ids is not None:
        cases = cases.filter(project_id__in=list(project_ids))
    cases = cases.order_by()
    failed, scores = set(), defaultdict(list)
    for case_id, verb, data in (CaseEvent.objects.filter(FAILED | Q(verb="callback", data__reached=True), case__in=cases.values("pk"))
                                .order_by().values_list("case_id", "verb", "data").iterator(chunk_size=5000)):
        if verb == "callback":
            score = data.get("score")
            if isinstance(score, int):
                scores[case_id].append(score)
            if data.get("reopened"):
                failed.add(case_id)
        else:
            failed.add(case_id)
    clocks = defaultdict(list)
    for row in (CaseClock.objects.filter(case__in=cases.values("pk"))
                .filter(Q(stopped_at__isnull=False) | Q(breached_at__isnull=False)).order_by()
                .values_list("case_id", "clock", "started_at", "stopped_at", "breached_at")
                .iterator(chunk_size=5000)):
        clocks[row[0]].append(row[1:])

    counts = defaultdict(_Counts)
    fields = ("pk", "project_id", "kind", "category_id", "channel", "department_id", "contractor_id",
              "original_contractor_id", "status", "repeat_of_id", "completed_at", "closed_at", "registered_at")
    for (pk, project_id, kind, category_id, channel, department_id, contractor_id, original_id, status,
         repeat_of_id, completed_at, closed_at, registered_at) in cases.values_list(*fields).iterator(chunk_size=5000):
        holder = original_id or contractor_id
        targets = [counts[(project_id, dimension, key)]
                   for dimension, key in _cohort_keys(kind, category_id, channel, holder, department_id)]
        repair = kind == Kind.REPAIR
        counted = repair and holder is not None and (completed_at is not None or original_id is not None)
        case_scores = scores.get(pk, ())
        case_clocks = clocks.get(pk, ())
        is_open = status in OPEN_STATUSES
        low = any(score < LOW_SCORE for score in case_scores)  # cases, like the drill-down lists
        late = is_open and any(stopped is None and breached is not None for _c, _s, stopped, breached in case_clocks)
        clock_results = clock_outcomes(case_clocks)
        for target in targets:
            target.cases_in += 1
            target.closed += status == Status.CLOSED
            target.cancelled += status == Status.CANCELLED
            target.open += is_open
            target.late_open += late
            target.repairs += repair
            target.repeats += repair and repeat_of_id is not None
            if counted:
                target.repairs_counted += 1
                target.third_party += original_id is not None
                target.first_time += original_id is None and pk not in failed
            for score in case_scores:
                target.scored += 1
                target.score_total += score
            target.low_scores += low
            for clock, on_time in clock_results.items():
                pair = target.clocks[clock]
                pair[0] += 1
                pair[1] += on_time
        whole = targets[0]
        if status == Status.CLOSED and closed_at is not None:
            whole.durations[f"case:{kind}"][bucket(_minutes(closed_at - registered_at))] += 1
        for clock, started, stopped, _breached in case_clocks:
            if stopped is not None:
                whole.durations[f"clock:{clock}"][bucket(_minutes(stopped - started))] += 1
    return [value.row(month, project_id, dimension, key, dimension == Dimension.ALL)
            for (project_id, dimension, key), value in counts.items()]


def _key(value):
    return "" if value is None else str(value)


def _store(month, project_ids, rows):
    """Replace the roll-ups of ``month`` for ``project_ids`` (None: all) by ``rows``."""
    old = CaseRollup.objects.filter(month=month)
    if project_ids is not None:
        old = old.filter(project_id__in=list(project_ids))
    old.delete()
    CaseRollup.objects.bulk_create(rows, batch_size=2000)


def _state():
    state = RollupState.objects.order_by("pk").first()
    return state or RollupState.objects.create()


def as_of():
    """When the roll-ups were last brought up to date, or None before the first build."""
    return RollupState.objects.order_by("pk").values_list("refreshed_at", flat=True).first()


def rebuild(now=None):
    """Recompute every cohort; returns the number of months."""
    from .clocks import SWEEP_LOCK_KEY  # clocks imports this module

    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A sweep counting breaches in place waits: its increments must land in the new rows.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        RollupMark.objects.all().delete()
        CaseRollup.objects.all().delete()
        bounds = Case.objects.aggregate(first=Min("registered_at"), last=Max("registered_at"))
        months = 0
        if bounds["first"] is not None:
            month, last = month_of(bounds["first"]), month_of(bounds["last"])
            while month <= last:
                CaseRollup.objects.bulk_create(compute(month), batch_size=2000)
                month, months = next_month(month), months + 1
        state = _state()
        state.refreshed_at = state.rebuilt_at = now
        state.save()
    return months


def refresh(now=None):
    """Recompute the marked cohorts; returns how many (project, month) cohorts were redone, or
    -1 when it built everything (the first time). Three queries when nothing is marked."""
    now = now or timezone.now()
    state = RollupState.objects.filter(rebuilt_at__isnull=False).order_by("pk").values_list("pk", flat=True).first()
    if state is None:
        rebuild(now)
        return -1
    marks = list(RollupMark.objects.order_by("pk").values_list("pk", "project_id", "month")[:MARKS_PER_REFRESH])
    if not marks:
        RollupState.objects.filter(pk=state).update(refreshed_at=now)
        return 0
    months = defaultdict(set)
    for _pk, project_id, month in marks:
        months[month].add(project_id)
    with transaction.atomic():
        for month, project_ids in sorted(months.items()):
            _store(month, project_ids, compute(month, project_ids))
        RollupMark.objects.filter(pk__in=[pk for pk, _p, _m in marks]).delete()
        if len(marks) < MARKS_PER_REFRESH:  # else more wait: the roll-ups are not current yet
            RollupState.objects.filter(pk=state).update(refreshed_at=now)
    return sum(len(ids) for ids in months.values())
