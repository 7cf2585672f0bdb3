"""manage.py sweep_cases: reminders, breaches and the three escalation levels, each exactly once,
reading only what is due (query count independent of the work not due), idempotent, and safe
against a second scheduler on PostgreSQL."""

import datetime as dt
import importlib
import io
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from plugins.cases import clocks, defaults, rollups, tasks
from plugins.cases.models import Case, CaseClock, CaseEvent, ClockKind
from tests.factories import StaffProfileFactory, UserFactory
from tests.plugins.cases.test_clocks import register_at  # noqa: F401 (fixture)

SH = ZoneInfo("Asia/Shanghai")
REGISTERED = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)  # a routine repair: resolution 48 h, 24×7
REMIND = dt.datetime(2026, 3, 11, 0, 24, tzinfo=SH)  # 80 % of 48 h
DUE = dt.datetime(2026, 3, 11, 10, 0, tzinfo=SH)
MANAGER_AT = dt.datetime(2026, 3, 12, 10, 0, tzinfo=SH)  # a further 50 % (24 h) after the breach
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def chain(db):
    """worker → supervisor → manager, as estates.StaffProfile supervisors."""
    manager = UserFactory(username="manager", first_name="经理")
    StaffProfileFactory(user=manager)
    supervisor = UserFactory(username="supervisor", first_name="主管")
    StaffProfileFactory(user=supervisor, supervisor=manager)
    worker = UserFactory(username="worker", first_name="师傅")
    StaffProfileFactory(user=worker, supervisor=supervisor)
    return worker, supervisor, manager


@pytest.fixture
def assigned(register_at, chain):  # noqa: F811
    """A routine repair registered at REGISTERED, assigned to the worker."""

    def make(when=REGISTERED, **fields):
        case = register_at(when, **fields)
        Case.objects.filter(pk=case.pk).update(assignee=chain[0])
        case.refresh_from_db()
        return case

    return make


@pytest.fixture
def notified(monkeypatch):
    calls = []
    monkeypatch.setattr(clocks, "notice", lambda case, clock, what, recipients, words=None: calls.append(
        (case.pk, clock.clock, what, [user.username for user in recipients])))
    return calls


def clock_events(case):
    return list(CaseEvent.objects.filter(case=case, type=CaseEvent.Type.CLOCK).order_by("pk"))


def counts(result):
    return result.reminded, result.breached, result.escalated


def test_reminder_breach_and_manager_escalation_each_happen_once(assigned, chain, notified):
    worker, supervisor, manager = chain
    case = assigned()
    resolution = CaseClock.objects.get(case=case, clock=ClockKind.RESOLUTION)
    assert (resolution.remind_at, resolution.due_at, resolution.escalate_at) == (REMIND, DUE, MANAGER_AT)
    history = case.history.count()

    assert counts(clocks.sweep(REMIND - MIN)) == (0, 0, 0)
    assert counts(clocks.sweep(REMIND)) == (1, 0, 0)
    assert counts(clocks.sweep(REMIND)) == (0, 0, 0)
    assert counts(clocks.sweep(DUE)) == (0, 0, 0)  # due at 10:00 means by 10:00
    assert counts(clocks.sweep(DUE + MIN)) == (0, 1, 0)
    assert counts(clocks.sweep(DUE + MIN)) == (0, 0, 0)
    assert counts(clocks.sweep(MANAGER_AT)) == (0, 0, 1)
    assert counts(clocks.sweep(MANAGER_AT + dt.timedelta(days=30))) == (0, 0, 0)

    resolution.refresh_from_db()
    assert resolution.reminded_at == REMIND
    assert resolution.breached_at == DUE
    assert (resolution.escalation_level, resolution.escalated_at) == (3, MANAGER_AT)
    assert resolution.sweep_at is None and resolution.running
    events = clock_events(case)
    assert [(e.verb, e.actor_type, e.data["level"], e.data["recipients"]) for e in events] == [
        ("clock_remind", "system", 1, [worker.pk]),
        ("clock_breach", "system", 2, [supervisor.pk]),
        ("clock_escalate", "system", 3, [manager.pk]),
    ]
    assert [e.created_at for e in events] == [REMIND, DUE + MIN, MANAGER_AT]
    assert events[0].data["key"] == f"case:{case.pk}:resolution:remind"
    assert "2026-03-11 10:00" in events[0].text and "师傅" in events[0].text
    assert not any(e.visible_to_owner for e in events)
    assert notified == [
        (case.pk, "resolution", "remind", ["worker"]),
        (case.pk, "resolution", "breach", ["supervisor"]),
        (case.pk, "resolution", "escalate", ["manager"]),
    ]
    case.refresh_from_db()
    assert case.escalation_level == 3
    rows = list(case.history.order_by("history_date", "history_id"))[history:]
    assert len(rows) == 3
    assert [row.escalation_level for row in rows] == [1, 2, 3]
    assert all(row.history_user is None and row.history_change_reason.startswith("[系统：时限巡检]")
               for row in rows)
    assert "升级至经理" in rows[2].history_change_reason


def test_a_late_sweep_takes_every_step_once_in_order(assigned, notified):
    case = assigned()
    result = clocks.sweep(MANAGER_AT + dt.timedelta(hours=5))
    assert counts(result) == (1, 1, 1) and (result.clocks, len(result.cases)) == (1, 1)
    assert [e.verb for e in clock_events(case)] == ["clock_remind", "clock_breach", "clock_escalate"]
    assert [what for _, _, what, _ in notified] == ["remind", "breach", "escalate"]
    assert counts(clocks.sweep(MANAGER_AT + dt.timedelta(hours=5))) == (0, 0, 0)
    assert len(clock_events(case)) == 3


def test_running_twice_at_the_same_moment_changes_nothing_the_second_time(assigned):
    cases = [assigned() for _ in range(3)]
    clocks.sweep(DUE + MIN)
    snapshot = (
        list(CaseClock.objects.order_by("pk").values()),
        CaseEvent.objects.count(),
        sum(case.history.count() for case in cases),
        list(Case.objects.order_by("pk").values("escalation_level")),
    )
    second = clocks.sweep(DUE + MIN)
    assert counts(second) == (0, 0, 0) and second.clocks == 0
    assert snapshot == (
        list(CaseClock.objects.order_by("pk").values()),
        CaseEvent.objects.count(),
        sum(case.history.count() for case in cases),
        list(Case.objects.order_by("pk").values("escalation_level")),
    )


def test_a_clock_met_in_time_is_never_reminded(assigned):
    case = assigned()
    clocks.on_event(case, "complete", REMIND - MIN)
    assert counts(clocks.sweep(MANAGER_AT + dt.timedelta(days=1))) == (0, 0, 0)
    assert clock_events(case) == []


def test_a_paused_clock_is_not_swept_and_resumes_later(assigned):
    case = assigned()
    clocks.on_event(case, "pause", REMIND - dt.timedelta(hours=1), reason="owner")
    assert counts(clocks.sweep(DUE + dt.timedelta(days=3))) == (0, 0, 0)
    clocks.on_event(case, "resume", DUE + dt.timedelta(days=3))
    resolution = CaseClock.objects.get(case=case, clock=ClockKind.RESOLUTION)
    assert resolution.remind_at == DUE + dt.timedelta(days=3) + dt.timedelta(hours=1)
    assert counts(clocks.sweep(resolution.remind_at)) == (1, 0, 0)


def test_a_clock_stopped_late_is_breached_without_notifications(assigned, notified):
    case = assigned()
    clocks.on_event(case, "complete", DUE + dt.timedelta(hours=2))
    resolution = CaseClock.objects.get(case=case, clock=ClockKind.RESOLUTION)
    assert resolution.breached_at == DUE and resolution.sweep_at is None
    clocks.sweep(MANAGER_AT)
    assert [what for _, clock, what, _ in notified if clock == "resolution"] == []


def test_nobody_assigned_reminds_whoever_registered_and_stops_where_the_chain_stops(register_at, agent):  # noqa: F811
    case = register_at(REGISTERED)
    clocks.sweep(MANAGER_AT)
    events = clock_events(case)
    assert [e.data["recipients"] for e in events] == [[agent.pk], [], []]
    assert "无人可通知" in events[1].text


def test_every_clock_of_a_case_is_swept_on_its_own(register_at):  # noqa: F811
    complaint = register_at(dt.datetime(2026, 3, 14, 20, 0, tzinfo=SH), kind="complaint")
    result = clocks.sweep(dt.datetime(2026, 3, 15, 19, 30, tzinfo=SH))
    # Acknowledgement: reminded, breached (22:00) and escalated (23:00); answer (due 20:00) and
    # department reply (due 19:00, passed) reminded; resolution not yet.
    events = {(e.data["clock"], e.verb) for e in clock_events(complaint)}
    assert events == {
        ("acknowledgement", "clock_remind"), ("acknowledgement", "clock_breach"),
        ("acknowledgement", "clock_escalate"), ("answer", "clock_remind"),
        ("department_reply", "clock_remind"), ("department_reply", "clock_breach"),
    }
    assert counts(result) == (3, 2, 1) and result.clocks == 3 and len(result.cases) == 1


def test_small_batches_cover_everything_due(assigned):
    for _ in range(5):
        assigned()
    result = clocks.sweep(REMIND, batch_size=2)
    assert counts(result) == (5, 0, 0) and result.clocks == 5
    assert not CaseClock.objects.filter(reminded_at__isnull=True).exists()


@pytest.mark.parametrize("due_count", [1, 50])
def test_the_sweep_reads_only_what_is_due_in_a_bounded_number_of_queries(
        assigned, register_at, due_count, django_assert_max_num_queries):  # noqa: F811
    for _ in range(due_count):
        assigned()
    for _ in range(30):  # running clocks not yet due: never read
        register_at(MANAGER_AT)
    rollups.refresh()  # the dashboard's roll-ups built, the registrations' marks consumed
    # One batch: candidates, lock cases, clocks with their people, then one write per table
    # (history may take two inserts), the savepoint pair, and the advisory lock on PostgreSQL;
    # then the outbox for the whole batch: read the keys, insert, read back (its savepoint pair);
    # then the roll-ups with nothing marked: their state, the marks, the "as of" time.
    with django_assert_max_num_queries(20):
        result = clocks.sweep(REMIND)
    assert result.reminded == due_count


def test_the_sweep_query_uses_the_partial_index(db):
    query = clocks._due(REMIND).order_by("sweep_at", "pk").values_list("pk", "case_id", "sweep_at")[:500]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "case_clock_sweep" in plan


# --- The command and the task -------------------------------------------------------------------
def test_the_command_prints_a_one_line_summary(assigned):
    assigned()
    out = io.StringIO()
    with time_machine.travel(DUE + MIN, tick=False):
        call_command("sweep_cases", stdout=out)
        call_command("sweep_cases", "--batch-size", "10", stdout=out)
    first, second = out.getvalue().splitlines()
    assert first.startswith("时限巡检：提醒 1 个，超时 1 个，升级至经理 0 个（涉及 1 个时限、1 张工单")
    assert second.startswith("时限巡检：提醒 0 个，超时 0 个，升级至经理 0 个（涉及 0 个时限、0 张工单")


def test_the_command_refuses_a_bad_batch_size(db):
    with pytest.raises(CommandError, match="正整数"):
        call_command("sweep_cases", "--batch-size", "0")


def test_the_task_runs_the_same_sweep(assigned):
    assigned()
    assert tasks.sweep_cases.backend == "background"
    with time_machine.travel(REMIND, tick=False):
        assert tasks.sweep_cases.call() == {
            "reminded": 1, "breached": 0, "escalated": 0, "clocks": 1, "cases": 1, "busy": False,
            "cohorts": -1}  # the first sweep builds the dashboard's roll-ups


# --- PostgreSQL: two schedulers, and a case a verb holds ------------------------------------------
def hold_in_thread(work):
    """Run ``work(release)`` on its own connection in a thread; returns (started, release,
    thread). ``work`` signals ``started`` once it holds what it holds and waits for ``release``."""
    started, release = threading.Event(), threading.Event()

    def run():
        try:
            work(started, release)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(timeout=20)
    return release, thread


@pytest.mark.postgres
def test_a_second_scheduler_skips_while_one_holds_the_advisory_lock(db):
    def hold_lock(started, release):
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [clocks.SWEEP_LOCK_KEY])
            started.set()
            release.wait(timeout=20)
            cursor.execute("SELECT pg_advisory_unlock(%s)", [clocks.SWEEP_LOCK_KEY])

    release, thread = hold_in_thread(hold_lock)
    try:
        result = clocks.sweep(REMIND)
    finally:
        release.set()
        thread.join(timeout=20)
    assert result.busy and result.summary() == "时限巡检：另一个巡检正在运行，本次跳过。"
    assert not clocks.sweep(REMIND).busy


@pytest.fixture
def committed_defaults():
    """Transactional tests flush the tables after each test: put the shipped calendars,
    holidays and policies back (idempotently)."""
    defaults.create_all(django_apps)
    importlib.import_module("plugins.cases.migrations.0003_sla").create_policies(django_apps)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_each_clock_once(committed_defaults, assigned):
    cases = [assigned() for _ in range(20)]
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait(timeout=20)
            results.append(clocks.sweep(DUE + MIN, batch_size=5))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    assert sum(r.reminded for r in results) == 20 and sum(r.breached for r in results) == 20
    assert CaseEvent.objects.filter(type=CaseEvent.Type.CLOCK).count() == 40
    for case in cases:
        assert sorted(e.verb for e in clock_events(case)) == ["clock_breach", "clock_remind"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_case_a_verb_holds_is_skipped_and_taken_next_time(committed_defaults, assigned):
    held, free = assigned(), assigned()

    def hold_case(started, release):
        with transaction.atomic():
            Case.objects.select_for_update().get(pk=held.pk)
            started.set()
            release.wait(timeout=20)

    release, thread = hold_in_thread(hold_case)
    try:
        first = clocks.sweep(REMIND)
    finally:
        release.set()
        thread.join(timeout=20)
    assert first.reminded == 1 and first.cases == {free.pk}
    second = clocks.sweep(REMIND)
    assert second.reminded == 1 and second.cases == {held.pk}
