"""The SLA engine: the clocks of a case started, stopped, paused and resumed by the verbs, and
the sweep that reminds, records breaches and escalates (DOMAIN.md "Clocks"; ARCHITECTURE.md
decision 7).

How the verbs use it. Every verb in ``services.py``, inside its transaction and *after* locking
the case row, calls ``on_event(case, verb, when, **details)``; the table ``EVENTS`` below says
which clocks each verb starts and stops, and a verb without an entry changes no clock. These
functions write ``CaseClock`` rows only: the verb's own timeline event and history row cover
the change. Lock order is always the case row first, then its clocks; the sweep follows it too,
so a verb and a sweep never deadlock.

Targets are copied from the matching ``SLAPolicy`` when a clock starts (``policy_for``), so a
policy edit never moves a running clock. All the arithmetic is ``WorkingTime`` from
``calendars.py`` on the clock's own ``WorkCalendar``.
"""

import copy
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from estates.importing import bulk

from . import rollups
from .models import ActorType, Case, CaseClock, CaseEvent, Category, ClockKind, Kind, SLAPolicy, TargetUnit
from .models.choices import PAUSING_REASONS
from .models.sla import UNIT_DELTAS

ACK, CONTACT, ANSWER, DEPARTMENT_REPLY = (
    ClockKind.ACKNOWLEDGEMENT, ClockKind.CONTACT, ClockKind.ANSWER, ClockKind.DEPARTMENT_REPLY)
ON_SITE, RESOLUTION, CALLBACK, RECHECK = (
    ClockKind.ON_SITE, ClockKind.RESOLUTION, ClockKind.CALLBACK, ClockKind.RECHECK)

DEFAULT_BATCH_SIZE = 500
# pg_try_advisory_lock key of the sweep: "anjuswep" as a 64-bit integer.
SWEEP_LOCK_KEY = int.from_bytes(b"anjuswep", "big")


# --- Which verb starts and stops which clock ----------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """What one verb does to the clocks of a case of ``kinds`` (all kinds when None).

    ``stop``: stop these if running. ``start``: start these unless they ever ran (clocks run
    once). ``again``: start a new round unless one is running (a call-back after a second
    completion). ``restart``: stop the running round, if any, and start a new one (a third-party
    contractor gets its own 30 minutes). A clock starts only if the case's policy has a target
    for it."""

    stop: tuple = ()
    start: tuple = ()
    again: tuple = ()
    restart: tuple = ()
    kinds: frozenset | None = None


EVENTS = {
    "register": (Rule(start=(ACK, ANSWER, DEPARTMENT_REPLY, RESOLUTION)),),
    "accept": (Rule(stop=(ACK,)),),
    "dispatch": (Rule(start=(CONTACT, ON_SITE)),),
    "contact": (Rule(stop=(ACK, CONTACT)),),
    "on_site": (Rule(stop=(ACK, CONTACT, ON_SITE)),),
    "department_reply": (Rule(stop=(DEPARTMENT_REPLY,)),),
    "answer": (Rule(stop=(ACK, DEPARTMENT_REPLY, ANSWER)),),
    "third_party": (Rule(restart=(CONTACT, ON_SITE)),),
    "complete": (
        Rule(stop=(ACK, CONTACT, ON_SITE)),
        Rule(kinds=frozenset({Kind.REPAIR}), stop=(RESOLUTION,), again=(CALLBACK,)),
    ),
    "close": (
        Rule(stop=(ACK, ANSWER, DEPARTMENT_REPLY, CONTACT, ON_SITE, RESOLUTION)),
        Rule(kinds=frozenset({Kind.COMPLAINT, Kind.ENQUIRY}), again=(CALLBACK, RECHECK)),
    ),
    # ``done=False`` (an attempt that did not reach the owner) leaves the call-back running.
    "callback": (Rule(stop=(CALLBACK,)),),
    "recheck": (Rule(stop=(RECHECK,)),),
    "reopen": (Rule(stop=(CALLBACK, RECHECK), again=(RESOLUTION,)),),
    "cancel": (Rule(stop=tuple(ClockKind.values)),),
}


def on_event(case, verb, when=None, **details):
    """Apply ``verb`` to the clocks of ``case`` (already locked by the caller) at ``when``.

    ``pause`` takes ``reason`` (a PauseReason): only a pausing reason pauses the clocks;
    ``resume`` resumes whatever is paused; ``callback`` takes ``done`` (default True).
    Returns the clocks written."""
    when = when or timezone.now()
    if verb == "pause":
        return pause_all(case, when) if details.get("reason") in PAUSING_REASONS else []
    if verb == "resume":
        return resume_all(case, when)
    if verb == "callback" and not details.get("done", True):
        return []
    changed = []
    calendars = Calendars(when)
    for rule in EVENTS.get(verb, ()):
        if rule.kinds is not None and case.kind not in rule.kinds:
            continue
        changed += _stop(case, set(rule.stop) | set(rule.restart), when, calendars)
        starts = [(kind, "start") for kind in rule.start] + [(kind, "again") for kind in rule.again + rule.restart]
        if starts:
            changed += _start(case, starts, when, calendars)
    return changed


# --- Policies -----------------------------------------------------------------------------------
def policy_for(case):
    """The first active policy matching ``case``: same kind; its category, if any, is the
    case's category or an ancestor; its priority and project, if any, are the case's. Tried in
    ascending ``order``, the more specific first at equal order (SLAPolicy.specificity)."""
    chain = []
    if case.category_id:
        parents = Category.objects.filter(pk=case.category_id).values_list("parent_id", "parent__parent_id").first()
        chain = [case.category_id, *(pk for pk in parents or () if pk)]
    candidates = SLAPolicy.objects.filter(
        Q(project__isnull=True) | Q(project_id=case.project_id),
        Q(priority="") | Q(priority=case.priority),
        Q(category__isnull=True) | Q(category_id__in=chain),
        active=True, kind=case.kind,
    )
    return min(candidates, key=lambda policy: (policy.order, *policy.specificity()), default=None)


def targets_of(policy):
    """{clock kind: SLATarget} of ``policy`` (none for no policy)."""
    if policy is None:
        return {}
    return {target.clock: target for target in policy.targets.select_related("calendar")}


class Calendars:
    """``WorkingTime`` per ``WorkCalendar``, each built once per call (holidays loaded for the
    years around ``when``)."""

    def __init__(self, when):
        self.around = timezone.localdate(when)
        self._built = {}

    def __call__(self, calendar):
        if calendar.pk not in self._built:
            self._built[calendar.pk] = calendar.working_time(around=self.around)
        return self._built[calendar.pk]


# --- Starting -----------------------------------------------------------------------------------
def start(case, clock_kind, when=None, *, again=False):
    """Start ``clock_kind`` on ``case`` with the target of its policy. Does nothing when the
    policy has no such target, when that clock is running, or (unless ``again``) when it ran
    before. Returns the new clock or None."""
    when = when or timezone.now()
    started = _start(case, [(clock_kind, "again" if again else "start")], when, Calendars(when))
    return started[0] if started else None


def _start(case, kinds, when, calendars):
    policy = policy_for(case)
    targets = targets_of(policy)
    kinds = [(kind, mode) for kind, mode in kinds if kind in targets]
    if not kinds:
        return []
    latest = {}
    for clock in case.clocks.filter(clock__in=[kind for kind, _ in kinds]).select_related("calendar").order_by("round"):
        latest[clock.clock] = clock
    new = []
    # Targets relative to another clock ("1 hour before the answer") after the clocks they follow.
    for kind, mode in sorted(kinds, key=lambda item: bool(targets[item[0]].before_clock)):
        previous = latest.get(kind)
        if previous is not None and (previous.running or mode == "start"):
            continue
        target = targets[kind]
        reference = latest.get(target.before_clock) if target.before_clock else None
        if target.before_clock and (reference is None or not reference.running):
            continue
        clock = CaseClock(
            case=case, clock=kind, round=previous.round + 1 if previous else 1, policy=policy,
            amount=target.amount, unit=target.unit, before_clock=target.before_clock,
            calendar=reference.calendar if reference else target.calendar,
            remind_percent=target.remind_percent, started_at=when,
        )
        _schedule(clock, calendars(clock.calendar), reference)
        latest[kind] = clock
        new.append(clock)
    return CaseClock.objects.bulk_create(new)


def _schedule(clock, working, reference=None):
    """Set due, reminder and manager-escalation times of a new ``clock`` (DOMAIN.md "Clocks")."""
    start = clock.started_at
    if clock.before_clock:
        offset = clock.amount * UNIT_DELTAS[clock.unit]
        clock.due_at = max(working.add(reference.due_at, -offset), working.next_working_moment(start))
    elif clock.unit == TargetUnit.DAYS:
        clock.due_at = working.add_days(start, clock.amount)
    else:
        clock.due_at = working.add(start, clock.amount * UNIT_DELTAS[clock.unit])
    span = working.between(start, clock.due_at)  # the target in counted time
    if _reminds_on_the_due_day(clock, working):
        clock.remind_at = _start_of_due_day(clock, working)
    else:
        clock.remind_at = working.add(start, span * clock.remind_percent / 100) if span else clock.due_at
    # The manager hears of it when a further 50 % of the target has passed.
    clock.escalate_at = working.add(clock.due_at, span / 2) if span else clock.due_at
    clock.sweep_at = next_sweep(clock)


def _reminds_on_the_due_day(clock, working):
    """A target in working days is reminded at the start of working hours on the due day."""
    return clock.unit == TargetUnit.DAYS and not working.always


def _start_of_due_day(clock, working):
    window = working.window(working.local(clock.due_at).date())
    opening = window[0] if window else clock.due_at
    return min(max(opening, clock.started_at), clock.due_at)


def next_sweep(clock):
    """The next moment the sweep has to act on ``clock``, or None."""
    if clock.stopped_at is not None or clock.paused_since is not None:
        return None
    pending = [moment for _, _, moment in _pending(clock)]
    return min(pending, default=None)


def _pending(clock):
    """(what, level, when) of the steps still to take, in order."""
    steps = []
    if clock.reminded_at is None:
        steps.append(("remind", 1, clock.remind_at))
    if clock.breached_at is None:
        steps.append(("breach", 2, clock.due_at))
    if clock.escalation_level < 3:
        steps.append(("escalate", 3, clock.escalate_at))
    return sorted(steps, key=lambda step: (step[2], step[1]))


# --- Stopping, pausing, resuming ----------------------------------------------------------------
def stop(case, clock_kind, when=None):
    """Stop the running ``clock_kind`` of ``case``. A clock stopped after its due time is
    recorded as breached at its due time, even if the sweep had not seen it yet."""
    when = when or timezone.now()
    stopped = _stop(case, {clock_kind}, when, Calendars(when))
    return stopped[0] if stopped else None


def _stop(case, kinds, when, calendars):
    if not kinds:
        return []
    clocks = list(case.clocks.filter(clock__in=kinds, stopped_at__isnull=True).select_related("calendar"))
    for clock in clocks:
        if clock.paused_since is not None:
            _unpause(clock, when, calendars(clock.calendar))
        if clock.breached_at is None and when > clock.due_at:
            clock.breached_at = clock.due_at
        clock.stopped_at = when
        clock.sweep_at = None
    CaseClock.objects.bulk_update(
        clocks, ["paused_since", "paused_total", "due_at", "remind_at", "escalate_at", "breached_at",
                 "stopped_at", "sweep_at"])
    return clocks


def pause_all(case, when=None):
    """Pause every running clock of ``case`` (waiting for the owner). Paused clocks leave the
    sweep until they resume."""
    when = when or timezone.now()
    clocks = list(case.clocks.filter(stopped_at__isnull=True, paused_since__isnull=True))
    for clock in clocks:
        clock.paused_since = when
        clock.sweep_at = None
    CaseClock.objects.bulk_update(clocks, ["paused_since", "sweep_at"])
    return clocks


def resume_all(case, when=None):
    """Resume the paused clocks of ``case``: due, reminder and escalation times still ahead move
    by the paused time counted on each clock's own calendar (a weekend moves a working-hours
    clock by the working minutes inside the pause, none of the weekend)."""
    when = when or timezone.now()
    calendars = Calendars(when)
    clocks = list(case.clocks.filter(stopped_at__isnull=True, paused_since__isnull=False).select_related("calendar"))
    for clock in clocks:
        _unpause(clock, when, calendars(clock.calendar))
        clock.sweep_at = next_sweep(clock)
    CaseClock.objects.bulk_update(
        clocks, ["paused_since", "paused_total", "due_at", "remind_at", "escalate_at", "sweep_at"])
    return clocks


def _unpause(clock, when, working):
    paused = working.between(clock.paused_since, when)
    clock.paused_since = None
    if not paused:
        return
    clock.paused_total += paused
    if clock.breached_at is None:
        clock.due_at = working.add(clock.due_at, paused)
    if clock.reminded_at is None:
        if _reminds_on_the_due_day(clock, working):
            clock.remind_at = _start_of_due_day(clock, working)
        else:
            clock.remind_at = working.add(clock.remind_at, paused)
    if clock.escalation_level < 3:
        clock.escalate_at = working.add(clock.escalate_at, paused)


# --- Notifications seam -------------------------------------------------------------------------
NOTICE_SUBJECTS = {
    "remind": gettext_lazy("工单 %(number)s：“%(clock)s”将于 %(due)s 到期"),
    "breach": gettext_lazy("工单 %(number)s：“%(clock)s”已超时（%(due)s 到期）"),
    "escalate": gettext_lazy("工单 %(number)s：“%(clock)s”严重超时，已升级至您"),
}


def notice(case, clock, what, recipients, words=None):
    """The outbox request telling ``recipients`` (staff users) that ``clock`` of ``case``
    reached ``what`` ("remind", "breach" or "escalate"), under ``clock.key(what)``
    (``case:812:resolution:remind``): a repeated sweep finds the key taken and sends nothing
    twice (ARCHITECTURE.md decision 9). None when nobody is to be told. ``words``: the sweep's
    texts, already translated (see ``Wording``)."""
    from notifications.services import Request

    recipients = [user for user in recipients if user is not None]
    if not recipients:
        return None
    words = words or Wording()
    due = timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M")
    subject = words.subject[what] % {"number": case.number, "clock": words.clock[clock.clock], "due": due}
    body = words.body % {
        "subject": subject, "project": case.project.name, "reporter": case.reporter_name,
        "description": case.description[:200],
    }
    return Request(clock.key(what), recipients, "generic", {"subject": subject, "body": body},
                   urgent=what != "remind")


class Wording:
    """The texts of the sweep's events, history rows and notices in the active language,
    translated once: gettext and lazy labels per clock step were about 15% of a sweep of
    5,000 due clocks."""

    def __init__(self):
        self.clock = {value: str(label) for value, label in ClockKind.choices}
        self.subject = {what: str(text) for what, text in NOTICE_SUBJECTS.items()}
        self.body = _("%(subject)s。\n项目：%(project)s；报事人：%(reporter)s。\n%(description)s")
        self.actor = _("时限巡检")
        self.reason = f"[{ActorType.SYSTEM.label}：{self.actor}] "
        self.nobody = _("（无人可通知）")
        self.step = {
            "remind": _("“%(clock)s”时限将于 %(due)s 到期，已提醒处理人：%(names)s。"),
            "breach": _("“%(clock)s”时限已于 %(due)s 超时，升级至上级：%(names)s。"),
            "escalate": _("“%(clock)s”时限超时已超过目标时长的一半，升级至经理：%(names)s。"),
        }


def notify(notices):
    """Send ``notices`` through the notifications outbox in one go (a fixed number of queries
    per sweep batch); it delivers after the sweep's transaction commits."""
    from notifications.services import send_many

    notices = [n for n in notices if n is not None]
    return send_many(notices) if notices else []


def escalation_recipients(case, level):
    """Who hears of escalation ``level``: 1 the assignee (or whoever registered the case, while
    nobody is assigned), 2 that person's supervisor, 3 the supervisor's supervisor (the
    manager), from estates.StaffProfile. Empty when the chain stops short."""
    person = case.assignee or case.registered_by
    for _ in range(level - 1):
        person = _supervisor(person)
    return [person] if person is not None else []


def _supervisor(user):
    if user is None:
        return None
    try:
        return user.staff_profile.supervisor
    except ObjectDoesNotExist:
        return None


# --- The sweep ----------------------------------------------------------------------------------
@dataclass
class SweepResult:
    reminded: int = 0
    breached: int = 0
    escalated: int = 0
    clocks: int = 0
    busy: bool = False
    seconds: float = 0.0
    cases: set = field(default_factory=set)
    #: Cohorts whose dashboard roll-ups were recomputed (rollups.refresh; -1: all rebuilt).
    cohorts: int = 0

    def summary(self):
        if self.busy:
            return _("时限巡检：另一个巡检正在运行，本次跳过。")
        return _(
            "时限巡检：提醒 %(reminded)s 个，超时 %(breached)s 个，升级至经理 %(escalated)s 个"
            "（涉及 %(clocks)s 个时限、%(cases)s 张工单）；指标汇总更新 %(cohorts)s；用时 %(seconds).2f 秒。"
        ) % {"reminded": self.reminded, "breached": self.breached, "escalated": self.escalated,
             "clocks": self.clocks, "cases": len(self.cases), "seconds": self.seconds,
             "cohorts": _("全部重建") if self.cohorts < 0 else _("%(n)s 组") % {"n": self.cohorts}}

    def as_dict(self):
        return {"reminded": self.reminded, "breached": self.breached, "escalated": self.escalated,
                "clocks": self.clocks, "cases": len(self.cases), "busy": self.busy, "cohorts": self.cohorts}


def batch_size_setting():
    return apps.get_app_config("cases").settings.get("SWEEP_BATCH_SIZE", DEFAULT_BATCH_SIZE)


def sweep(now=None, batch_size=None):
    """Do all time-based work due at ``now``: reminders, breaches, escalations, each once; then
    bring the dashboard's roll-ups up to date (rollups.refresh).

    Reads only running clocks whose next step is due (an indexed range), in batches of
    ``batch_size``, each batch in its own transaction with its cases locked (``skip_locked`` on
    PostgreSQL: a case a verb holds is left for the next run). On PostgreSQL an advisory lock
    keeps a second scheduler out; on SQLite the IMMEDIATE transactions serialize writers, and
    each batch re-reads its clocks after taking the lock. Running it twice changes nothing the
    second time."""
    started = time.monotonic()
    now = now or timezone.now()
    batch_size = batch_size or batch_size_setting()
    result = SweepResult()
    with translation.override(settings.LANGUAGE_CODE), _sweep_lock() as acquired:
        if not acquired:
            result.busy = True
            return result
        after = None
        while True:
            with transaction.atomic():
                seen, after = _sweep_batch(now, batch_size, after, result)
            if seen < batch_size:
                break
        # Under the same lock: two schedulers never recompute the same cohort at once.
        result.cohorts = rollups.refresh(now)
    result.seconds = time.monotonic() - started
    return result


@contextmanager
def _sweep_lock():
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCK_KEY])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCK_KEY])


def _due(now):
    return CaseClock.objects.filter(stopped_at__isnull=True, sweep_at__lte=now)


def _sweep_batch(now, batch_size, after, result):
    """One batch: returns (rows seen, keyset position after them)."""
    due = _due(now)
    if after is not None:
        due = due.filter(Q(sweep_at__gt=after[0]) | Q(sweep_at=after[0], pk__gt=after[1]))
    rows = list(due.order_by("sweep_at", "pk").values_list("pk", "case_id", "sweep_at")[:batch_size])
    if not rows:
        return 0, after
    cases = Case.objects.filter(pk__in={case_id for _, case_id, _ in rows}).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        cases = cases.select_for_update(skip_locked=True)
    locked = list(cases.values_list("pk", flat=True))
    clocks = list(
        _due(now).filter(pk__in=[pk for pk, _, _ in rows], case_id__in=locked)
        .select_related("case__project",  # named in the notices
                        "case__assignee__staff_profile__supervisor__staff_profile__supervisor",
                        "case__registered_by__staff_profile__supervisor__staff_profile__supervisor")
        .order_by("sweep_at", "pk")
    )
    _take_steps(clocks, now, result)
    return len(rows), (rows[-1][2], rows[-1][0])


def _take_steps(clocks, now, result):
    events, history, raised, notices, breached = [], [], {}, [], []
    cases, words = {}, Wording()
    for clock in clocks:
        case = clock.case = cases.setdefault(clock.case_id, clock.case)
        for what, level, moment in _pending(clock):
            # Due at 08:50 means "by 08:50": breached only once that moment has passed.
            if moment > now or (what == "breach" and moment == now):
                break
            if what == "remind":
                clock.reminded_at = now
                result.reminded += 1
            elif what == "breach":
                clock.breached_at = clock.due_at
                result.breached += 1
                breached.append(clock)
            else:
                result.escalated += 1
            clock.escalation_level = max(clock.escalation_level, level)
            clock.escalated_at = now
            if case.escalation_level < clock.escalation_level:
                case.escalation_level = clock.escalation_level
                raised[case.pk] = case
            recipients = escalation_recipients(case, level)
            text = _step_text(clock, what, recipients, words)
            events.append(CaseEvent(
                case=case, type=CaseEvent.Type.CLOCK, verb=f"clock_{what}", actor_type=ActorType.SYSTEM,
                actor_name=words.actor, text=text, created_at=now,
                data={"clock": clock.clock, "round": clock.round, "level": level,
                      "due_at": clock.due_at.isoformat(), "recipients": [user.pk for user in recipients],
                      "key": clock.key(what)},
            ))
            row = copy.copy(case)
            row._history_user = None
            row._change_reason = words.reason + text
            history.append(row)
            notices.append(notice(case, clock, what, recipients, words))
        clock.sweep_at = next_sweep(clock)
        result.cases.add(case.pk)
    result.clocks += len(clocks)
    # Plain rows through the importer's writer (a temporary table and one UPDATE … FROM on
    # PostgreSQL): bulk_update's CASE of one branch per clock and field was 40% of the sweep.
    bulk.update(CaseClock, [{field: getattr(clock, field) for field in SWEPT_FIELDS} for clock in clocks],
                SWEPT_FIELDS[1:])
    CaseEvent.objects.bulk_create(events)
    # A breach changes the on-time figures of the case's cohort: counted in place, since
    # recomputing every cohort a busy sweep touched took longer than the sweep itself.
    rollups.count_breaches(breached)
    # One UPDATE per level (at most three), not bulk_update's CASE of one branch per case,
    # which dominated the sweep's SQL time at 5,000 due clocks.
    levels = {}
    for case in raised.values():
        levels.setdefault(case.escalation_level, []).append(case.pk)
    for level, pks in levels.items():
        Case.objects.filter(pk__in=pks).update(escalation_level=level)
    if history:
        Case.history.bulk_history_create(history, update=True, default_date=now)
    notify(notices)


SWEPT_FIELDS = ["id", "reminded_at", "breached_at", "escalation_level", "escalated_at", "sweep_at"]


def _step_text(clock, what, recipients, words):
    names = "、".join(user.get_full_name() or user.get_username() for user in recipients) or words.nobody
    values = {"clock": words.clock[clock.clock], "due": f"{timezone.localtime(clock.due_at):%Y-%m-%d %H:%M}",
              "percent": clock.remind_percent, "names": names}
    return words.step[what] % values
