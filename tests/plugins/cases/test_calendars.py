"""Business-time arithmetic: DOMAIN.md's worked examples and the edges around them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from plugins.cases.calendars import NoWorkingTime, WorkingTime, always, office_hours

SH = ZoneInfo("Asia/Shanghai")
LABOUR_DAY = [dt.date(2026, 5, day) for day in range(1, 6)]
MAKE_UP = [dt.date(2026, 5, 9)]  # Saturday, a working day with Monday's hours
OFFICE = office_hours(holidays=LABOUR_DAY, workdays=MAKE_UP)
H24 = always()


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def test_example_1_contact_clock_runs_over_the_end_of_the_day():
    # Routine repair dispatched Tuesday 2026-03-10 17:20; contact within 30 working minutes.
    start = at(2026, 3, 10, 17, 20)
    assert OFFICE.add(start, dt.timedelta(minutes=30)) == at(2026, 3, 11, 8, 50)
    assert OFFICE.add(start, dt.timedelta(minutes=24)) == at(2026, 3, 11, 8, 44)  # 80 % reminder


def test_example_2_complaint_on_a_saturday_night_runs_24x7():
    start = at(2026, 3, 14, 20, 0)
    answer = H24.add(start, dt.timedelta(hours=24))
    assert H24.add(start, dt.timedelta(hours=2)) == at(2026, 3, 14, 22, 0)
    assert answer == at(2026, 3, 15, 20, 0)
    assert H24.add(answer, -dt.timedelta(hours=1)) == at(2026, 3, 15, 19, 0)


def test_example_3_a_pause_moves_a_24x7_clock_by_the_paused_time():
    due = H24.add(at(2026, 3, 9, 10, 0), dt.timedelta(hours=48))
    paused = H24.between(at(2026, 3, 10, 10, 0), at(2026, 3, 11, 16, 0))
    assert paused == dt.timedelta(hours=30)
    assert H24.add(due, paused) == at(2026, 3, 12, 16, 0)


def test_example_4_working_days_skip_the_labour_day_break():
    completed = at(2026, 4, 30, 15, 0)
    assert OFFICE.add_days(completed, 3) == at(2026, 5, 8, 15, 0)


def test_make_up_day_counts_with_mondays_hours():
    assert OFFICE.is_working_day(dt.date(2026, 5, 9))
    assert OFFICE.window(dt.date(2026, 5, 9)) == (at(2026, 5, 9, 8, 30), at(2026, 5, 9, 17, 30))
    # Friday 17:00 + 60 working minutes: 30 on Friday, 30 on the make-up Saturday.
    assert OFFICE.add(at(2026, 5, 8, 17, 0), dt.timedelta(minutes=60)) == at(2026, 5, 9, 9, 0)


def test_a_pause_over_a_weekend_and_a_holiday_moves_a_working_clock_by_working_minutes_only():
    # Paused Thursday 2026-04-30 16:30 to Wednesday 2026-05-06 09:30: 60 minutes on Thursday,
    # nothing over the break and the weekend, 60 minutes on Wednesday.
    paused = OFFICE.between(at(2026, 4, 30, 16, 30), at(2026, 5, 6, 9, 30))
    assert paused == dt.timedelta(minutes=120)
    due = at(2026, 5, 6, 17, 0)
    assert OFFICE.add(due, paused) == at(2026, 5, 7, 10, 0)


def test_start_outside_working_hours_moves_to_the_next_working_minute():
    assert OFFICE.next_working_moment(at(2026, 3, 10, 7, 0)) == at(2026, 3, 10, 8, 30)
    assert OFFICE.next_working_moment(at(2026, 3, 13, 18, 0)) == at(2026, 3, 16, 8, 30)  # Fri → Mon
    assert OFFICE.next_working_moment(at(2026, 4, 30, 17, 30)) == at(2026, 5, 6, 8, 30)
    assert OFFICE.add(at(2026, 3, 14, 10, 0), dt.timedelta(minutes=30)) == at(2026, 3, 16, 9, 0)
    # A days target started on a Saturday night counts from Monday 08:30.
    assert OFFICE.add_days(at(2026, 3, 14, 22, 0), 1) == at(2026, 3, 17, 8, 30)


def test_exact_end_of_window_and_zero_targets():
    assert OFFICE.add(at(2026, 3, 10, 17, 0), dt.timedelta(minutes=30)) == at(2026, 3, 10, 17, 30)
    assert OFFICE.add(at(2026, 3, 10, 10, 0), dt.timedelta(0)) == at(2026, 3, 10, 10, 0)
    assert OFFICE.between(at(2026, 3, 10, 12, 0), at(2026, 3, 10, 11, 0)) == dt.timedelta(0)


def test_counting_backwards_on_a_working_calendar():
    # One working hour before Monday 09:00 is Friday 17:00.
    assert OFFICE.add(at(2026, 3, 16, 9, 0), -dt.timedelta(hours=1)) == at(2026, 3, 13, 17, 0)
    assert OFFICE.add(at(2026, 3, 16, 8, 0), -dt.timedelta(minutes=30)) == at(2026, 3, 13, 17, 0)


def test_add_and_between_agree():
    start = at(2026, 4, 29, 11, 17)
    for minutes in (1, 59, 60, 540, 541, 2000, 10000):
        due = OFFICE.add(start, dt.timedelta(minutes=minutes))
        assert OFFICE.between(start, due) == dt.timedelta(minutes=minutes), minutes
        assert OFFICE.add(due, -dt.timedelta(minutes=minutes)) == OFFICE.next_working_moment(start)


def test_other_time_zones_are_converted():
    utc = dt.datetime(2026, 3, 10, 9, 20, tzinfo=dt.timezone.utc)  # 17:20 in Shanghai
    assert OFFICE.add(utc, dt.timedelta(minutes=30)) == at(2026, 3, 11, 8, 50)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        OFFICE.add(dt.datetime(2026, 3, 10, 9, 0), dt.timedelta(minutes=1))


def test_a_calendar_without_working_days_says_so():
    with pytest.raises(NoWorkingTime):
        WorkingTime(weekly={}).add(at(2026, 3, 10, 9, 0), dt.timedelta(minutes=1))
