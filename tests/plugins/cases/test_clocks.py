"""The SLA clocks on real cases: DOMAIN.md's worked examples through CaseClock rows, which verb
starts and stops which clock, pauses across a weekend and the 2026 Labour Day holiday (in the
database from migration 0002), reminders, rounds after a reopen.

The verbs are wired to ``clocks.on_event`` by services.py; these tests call the engine directly
with explicit times, and every call they make is idempotent, so they hold either way."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from plugins.cases import clocks
from plugins.cases.models import CaseClock, Category, ClockKind, PauseReason, Priority

SH = ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def register_at(new_case):
    """A case registered at ``when`` (the register verb's clocks started)."""

    def make(when, **fields):
        with time_machine.travel(when, tick=False):
            case = new_case(**fields)
        clocks.on_event(case, "register", when)
        return case

    return make


def clock(case, kind, round=1):
    return CaseClock.objects.get(case=case, clock=kind, round=round)


def running(case):
    return set(case.clocks.filter(stopped_at__isnull=True).values_list("clock", flat=True))


# --- DOMAIN.md's worked examples, through CaseClock -------------------------------------------------
def test_example_1_routine_contact_runs_on_working_hours(register_at):
    case = register_at(at(2026, 3, 10, 17, 0))
    clocks.on_event(case, "dispatch", at(2026, 3, 10, 17, 20))
    contact = clock(case, ClockKind.CONTACT)
    assert contact.calendar.code == "office"
    assert (contact.amount, contact.unit) == (30, "minutes")
    assert contact.due_at == at(2026, 3, 11, 8, 50)
    assert contact.remind_at == at(2026, 3, 11, 8, 44)
    assert contact.sweep_at == contact.remind_at
    # Routine repairs have no on-site clock; emergencies do.
    assert running(case) == {ClockKind.CONTACT, ClockKind.RESOLUTION}


def test_example_2_complaint_on_a_saturday_night_runs_24x7(register_at):
    case = register_at(at(2026, 3, 14, 20, 0), kind="complaint")
    assert running(case) == {ClockKind.ACKNOWLEDGEMENT, ClockKind.ANSWER, ClockKind.DEPARTMENT_REPLY,
                             ClockKind.RESOLUTION}
    assert clock(case, ClockKind.ACKNOWLEDGEMENT).due_at == at(2026, 3, 14, 22, 0)
    assert clock(case, ClockKind.ANSWER).due_at == at(2026, 3, 15, 20, 0)
    reply = clock(case, ClockKind.DEPARTMENT_REPLY)
    assert reply.due_at == at(2026, 3, 15, 19, 0)
    assert (reply.before_clock, reply.amount, reply.unit, reply.calendar.code) == ("answer", 1, "hours", "always")
    assert clock(case, ClockKind.RESOLUTION).due_at == at(2026, 3, 17, 20, 0)


def test_example_3_a_wait_for_the_owner_moves_a_24x7_clock_by_the_paused_time(register_at):
    case = register_at(at(2026, 3, 9, 10, 0))
    resolution = clock(case, ClockKind.RESOLUTION)
    assert resolution.due_at == at(2026, 3, 11, 10, 0)
    clocks.on_event(case, "pause", at(2026, 3, 10, 10, 0), reason=PauseReason.WAITING_FOR_OWNER)
    resolution.refresh_from_db()
    assert resolution.paused and resolution.sweep_at is None
    clocks.on_event(case, "resume", at(2026, 3, 11, 16, 0))
    resolution.refresh_from_db()
    assert resolution.paused_total == 30 * H
    assert resolution.due_at == at(2026, 3, 12, 16, 0)
    assert resolution.paused_since is None and resolution.sweep_at == resolution.remind_at


def test_example_4_repair_call_back_counts_working_days_over_labour_day(register_at):
    case = register_at(at(2026, 4, 28, 9, 0))
    clocks.on_event(case, "complete", at(2026, 4, 30, 15, 0))
    callback = clock(case, ClockKind.CALLBACK)
    assert (callback.amount, callback.unit, callback.calendar.code) == (3, "days", "office")
    assert callback.due_at == at(2026, 5, 8, 15, 0)
    # A target in working days: reminded at the start of working hours on the due day.
    assert callback.remind_at == at(2026, 5, 8, 8, 30)
    assert ClockKind.RESOLUTION not in running(case)


# --- Pauses over weekends and holidays -------------------------------------------------------------
def test_a_pause_across_labour_day_moves_a_working_clock_by_working_minutes_only(register_at):
    case = register_at(at(2026, 4, 30, 15, 0))
    clocks.on_event(case, "dispatch", at(2026, 4, 30, 16, 0))
    assert clock(case, ClockKind.CONTACT).due_at == at(2026, 4, 30, 16, 30)
    wall = at(2026, 5, 6, 9, 0) - at(2026, 4, 30, 16, 10)
    resolution_due = clock(case, ClockKind.RESOLUTION).due_at
    clocks.on_event(case, "pause", at(2026, 4, 30, 16, 10), reason=PauseReason.WAITING_FOR_OWNER)
    clocks.on_event(case, "resume", at(2026, 5, 6, 9, 0))
    contact = clock(case, ClockKind.CONTACT)
    # 16:10–17:30 on Thursday and 08:30–09:00 on Wednesday; the weekend and 1–5 May count nothing.
    assert contact.paused_total == 110 * MIN
    # 20 working minutes were left at the pause: due 09:20 after the resume.
    assert contact.due_at == at(2026, 5, 6, 9, 20)
    assert contact.remind_at == at(2026, 5, 6, 9, 14)
    resolution = clock(case, ClockKind.RESOLUTION)
    assert resolution.paused_total == wall
    assert resolution.due_at == resolution_due + wall


def test_a_pause_over_a_weekend_with_a_make_up_saturday_counts_the_saturday(register_at):
    case = register_at(at(2026, 5, 8, 9, 0))
    clocks.on_event(case, "complete", at(2026, 5, 8, 10, 0))
    callback = clock(case, ClockKind.CALLBACK)
    # Saturday 9 May is a working day, so three working days end on Tuesday.
    assert callback.due_at == at(2026, 5, 12, 10, 0)
    clocks.pause_all(case, at(2026, 5, 8, 17, 0))
    clocks.resume_all(case, at(2026, 5, 11, 9, 0))
    callback.refresh_from_db()
    assert callback.paused_total == (30 + 9 * 60 + 30) * MIN  # Fri 17:00–17:30, all of Sat, Mon 08:30–09:00
    # Tuesday 10:00 plus 10 working hours: 7.5 on Tuesday, 2.5 on Wednesday.
    assert callback.due_at == at(2026, 5, 13, 11, 0)
    assert callback.remind_at == at(2026, 5, 13, 8, 30)  # still the start of the due day


def test_waiting_for_parts_pauses_nothing(register_at):
    case = register_at(at(2026, 3, 9, 10, 0))
    assert clocks.on_event(case, "pause", at(2026, 3, 9, 11, 0), reason=PauseReason.WAITING_FOR_PARTS) == []
    assert not case.clocks.filter(paused_since__isnull=False).exists()
    assert clocks.on_event(case, "resume", at(2026, 3, 9, 12, 0)) == []
    assert clock(case, ClockKind.RESOLUTION).due_at == at(2026, 3, 11, 10, 0)


def test_pausing_twice_and_resuming_twice_count_the_pause_once(register_at):
    case = register_at(at(2026, 3, 9, 10, 0))
    clocks.pause_all(case, at(2026, 3, 9, 12, 0))
    assert clocks.pause_all(case, at(2026, 3, 9, 13, 0)) == []
    clocks.resume_all(case, at(2026, 3, 9, 14, 0))
    assert clocks.resume_all(case, at(2026, 3, 9, 15, 0)) == []
    resolution = clock(case, ClockKind.RESOLUTION)
    assert resolution.paused_total == 2 * H
    assert resolution.due_at == at(2026, 3, 11, 12, 0)


def test_a_clock_stopped_while_paused_counts_its_pause(register_at):
    case = register_at(at(2026, 3, 9, 10, 0))
    clocks.pause_all(case, at(2026, 3, 10, 10, 0))
    clocks.on_event(case, "cancel", at(2026, 3, 12, 10, 0))
    resolution = clock(case, ClockKind.RESOLUTION)
    assert resolution.paused_total == 48 * H
    assert resolution.due_at == at(2026, 3, 13, 10, 0)
    assert resolution.met and resolution.sweep_at is None


# --- Which verb starts and stops which clock ---------------------------------------------------------
def test_emergency_repairs_run_contact_on_site_and_resolution_24x7(register_at):
    burst = Category.objects.get(code="emergency-water")
    case = register_at(at(2026, 3, 14, 23, 0), category=burst)
    assert case.priority == Priority.EMERGENCY
    clocks.on_event(case, "dispatch", at(2026, 3, 14, 23, 5))
    assert running(case) == {ClockKind.CONTACT, ClockKind.ON_SITE, ClockKind.RESOLUTION}
    assert clock(case, ClockKind.CONTACT).due_at == at(2026, 3, 14, 23, 35)  # Saturday night counts
    assert clock(case, ClockKind.ON_SITE).due_at == at(2026, 3, 14, 23, 35)
    assert clock(case, ClockKind.RESOLUTION).due_at == at(2026, 3, 15, 23, 0)
    clocks.on_event(case, "contact", at(2026, 3, 14, 23, 15))
    assert running(case) == {ClockKind.ON_SITE, ClockKind.RESOLUTION}
    clocks.on_event(case, "on_site", at(2026, 3, 14, 23, 40))
    on_site = clock(case, ClockKind.ON_SITE)
    assert on_site.stopped_at == at(2026, 3, 14, 23, 40)
    assert on_site.breached_at == at(2026, 3, 14, 23, 35)  # late, recorded though the sweep never ran


def test_urgent_repairs_have_a_24x7_contact_clock_and_a_24_hour_resolution(register_at):
    case = register_at(at(2026, 3, 14, 20, 0), priority=Priority.URGENT)
    clocks.on_event(case, "dispatch", at(2026, 3, 14, 20, 0))
    assert running(case) == {ClockKind.CONTACT, ClockKind.RESOLUTION}
    assert clock(case, ClockKind.CONTACT).calendar.code == "always"
    assert clock(case, ClockKind.RESOLUTION).due_at == at(2026, 3, 15, 20, 0)


def test_a_contact_clock_started_out_of_hours_starts_at_the_next_working_minute(register_at):
    case = register_at(at(2026, 3, 14, 10, 0))  # Saturday
    clocks.on_event(case, "dispatch", at(2026, 3, 14, 10, 5))
    contact = clock(case, ClockKind.CONTACT)
    assert contact.started_at == at(2026, 3, 14, 10, 5)
    assert contact.due_at == at(2026, 3, 16, 9, 0)


def test_record_contact_stops_the_contact_clock_in_time(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "dispatch", at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "contact", at(2026, 3, 10, 9, 30))  # exactly on time
    contact = clock(case, ClockKind.CONTACT)
    assert contact.met and contact.stopped_at == at(2026, 3, 10, 9, 30)


def test_re_dispatch_keeps_the_running_contact_clock_and_never_restarts_a_stopped_one(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "dispatch", at(2026, 3, 10, 9, 0))
    assert clocks.on_event(case, "dispatch", at(2026, 3, 10, 9, 10)) == []
    clocks.on_event(case, "contact", at(2026, 3, 10, 9, 20))
    assert clocks.on_event(case, "dispatch", at(2026, 3, 10, 10, 0)) == []
    assert case.clocks.filter(clock=ClockKind.CONTACT).count() == 1


def test_a_third_party_contractor_gets_a_new_round_of_the_contact_clock(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "dispatch", at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "third_party", at(2026, 3, 10, 9, 10))
    first, second = clock(case, ClockKind.CONTACT), clock(case, ClockKind.CONTACT, round=2)
    assert first.stopped_at == at(2026, 3, 10, 9, 10) and first.met
    assert second.running and second.due_at == at(2026, 3, 10, 9, 40)
    assert second.key("breach") == f"case:{case.pk}:contact#2:breach"


def test_complaint_clocks_stop_and_close_starts_call_back_and_re_check(register_at):
    case = register_at(at(2026, 3, 14, 20, 0), kind="complaint")
    clocks.on_event(case, "accept", at(2026, 3, 14, 20, 30))
    assert ClockKind.ACKNOWLEDGEMENT not in running(case)
    clocks.on_event(case, "department_reply", at(2026, 3, 15, 12, 0))
    clocks.on_event(case, "answer", at(2026, 3, 15, 13, 0))
    assert running(case) == {ClockKind.RESOLUTION}
    clocks.on_event(case, "complete", at(2026, 3, 16, 9, 0))
    assert running(case) == {ClockKind.RESOLUTION}  # a complaint is resolved when closed
    clocks.on_event(case, "close", at(2026, 3, 16, 10, 0))
    assert running(case) == {ClockKind.CALLBACK, ClockKind.RECHECK}
    assert clock(case, ClockKind.CALLBACK).due_at == at(2026, 3, 17, 10, 0)
    assert clock(case, ClockKind.RECHECK).due_at == at(2026, 3, 23, 10, 0)
    clocks.on_event(case, "callback", at(2026, 3, 17, 9, 0), done=False)  # not reached
    assert ClockKind.CALLBACK in running(case)
    clocks.on_event(case, "callback", at(2026, 3, 17, 9, 30))
    clocks.on_event(case, "recheck", at(2026, 3, 20, 9, 30))
    assert running(case) == set()
    assert all(row.met for row in case.clocks.all())


def test_enquiries_run_answer_and_resolution(register_at):
    case = register_at(at(2026, 3, 14, 20, 0), kind="enquiry")
    assert running(case) == {ClockKind.ANSWER, ClockKind.RESOLUTION}
    assert clock(case, ClockKind.RESOLUTION).due_at == at(2026, 3, 17, 20, 0)
    clocks.on_event(case, "close", at(2026, 3, 15, 9, 0))
    assert running(case) == set()  # the shipped enquiry policy has no call-back


def test_repair_call_back_starts_at_completion_and_stops_at_the_call_back(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "dispatch", at(2026, 3, 10, 9, 0))
    clocks.on_event(case, "complete", at(2026, 3, 10, 15, 0))
    assert running(case) == {ClockKind.CALLBACK}
    contact = clock(case, ClockKind.CONTACT)
    assert contact.stopped_at == at(2026, 3, 10, 15, 0) and contact.breached_at == at(2026, 3, 10, 9, 30)
    clocks.on_event(case, "close", at(2026, 3, 11, 9, 0))
    assert running(case) == {ClockKind.CALLBACK}  # closing a repair leaves its call-back due
    clocks.on_event(case, "callback", at(2026, 3, 12, 9, 0), done=True)
    assert running(case) == set()


def test_reopen_starts_a_new_round_and_keeps_the_first(register_at):
    case = register_at(at(2026, 3, 9, 10, 0))
    clocks.on_event(case, "complete", at(2026, 3, 12, 10, 0))  # a day late
    clocks.on_event(case, "reopen", at(2026, 3, 13, 10, 0))
    first, second = clock(case, ClockKind.RESOLUTION), clock(case, ClockKind.RESOLUTION, round=2)
    assert first.breached_at == at(2026, 3, 11, 10, 0) and first.stopped_at == at(2026, 3, 12, 10, 0)
    assert second.running and second.due_at == at(2026, 3, 15, 10, 0)
    assert clock(case, ClockKind.CALLBACK).stopped_at == at(2026, 3, 13, 10, 0)
    clocks.on_event(case, "complete", at(2026, 3, 14, 10, 0))
    assert running(case) == {ClockKind.CALLBACK}
    # Completed on a Saturday: the working days count from Monday's first working minute.
    assert clock(case, ClockKind.CALLBACK, round=2).due_at == at(2026, 3, 19, 8, 30)


def test_cancel_stops_every_clock(register_at):
    case = register_at(at(2026, 3, 14, 20, 0), kind="complaint")
    stopped = clocks.on_event(case, "cancel", at(2026, 3, 14, 21, 0))
    assert len(stopped) == 4 and running(case) == set()
    assert not case.clocks.filter(sweep_at__isnull=False).exists()


def test_verbs_without_clocks_and_repeated_events_change_nothing(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    before = list(case.clocks.values())
    for verb in ("note", "start", "escalate", "sign_off", "register", "accept"):
        assert clocks.on_event(case, verb, at(2026, 3, 10, 10, 0)) == []
    assert list(case.clocks.values()) == before


def test_only_one_round_of_a_clock_runs_at_a_time(register_at):
    from django.db import IntegrityError, transaction

    case = register_at(at(2026, 3, 10, 9, 0))
    duplicate = clock(case, ClockKind.RESOLUTION)
    duplicate.pk, duplicate.round = None, 2
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_start_and_stop_one_clock_by_name(register_at):
    case = register_at(at(2026, 3, 10, 9, 0))
    assert clocks.start(case, ClockKind.ANSWER, at(2026, 3, 10, 9, 0)) is None  # not in the repair policy
    assert clocks.start(case, ClockKind.RESOLUTION, at(2026, 3, 10, 9, 0)) is None  # already running
    stopped = clocks.stop(case, ClockKind.RESOLUTION, at(2026, 3, 10, 10, 0))
    assert stopped.met
    assert clocks.stop(case, ClockKind.RESOLUTION, at(2026, 3, 10, 11, 0)) is None
    again = clocks.start(case, ClockKind.RESOLUTION, at(2026, 3, 10, 12, 0), again=True)
    assert again.round == 2 and again.due_at == at(2026, 3, 12, 12, 0)
