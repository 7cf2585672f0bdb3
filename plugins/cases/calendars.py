"""Business-time arithmetic for SLA clocks (DOMAIN.md, "Clocks").

A ``WorkingTime`` answers three questions about one calendar: when does a target that starts
now fall due, how much of it lies between two moments, and what is the next moment that counts.
It is plain Python over aware datetimes so that the SLA engine, the sweep and the tests share
one implementation; the calendar rows in the database (working hours per weekday and dated
exceptions) are turned into one of these by the models.

Rules, as DOMAIN.md states them:

* On a 24×7 calendar every minute counts.
* On a working calendar only working minutes count. A target in minutes (or hours) counts
  working minutes; a target in days counts working days and falls due at the same time of day
  on the last of them.
* A clock that starts outside working hours starts at the next working minute.
* A make-up working day (调休) has Monday's working hours; a public holiday has none.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MINUTE = dt.timedelta(minutes=1)
MONDAY = 0
# How far ahead to look for a working day before deciding the calendar has none: a year and a
# bit covers the longest holiday run with room to spare.
SEARCH_DAYS = 400

Window = tuple[dt.time, dt.time]


class NoWorkingTime(ValueError):
    """The calendar has no working minute within the search horizon (e.g. no working weekday)."""


@dataclass(frozen=True)
class WorkingTime:
    """One calendar.

    ``weekly`` maps a weekday (Monday 0 … Sunday 6) to its working window (start, end) or None
    for a rest day. ``holidays`` are rest days; ``workdays`` are make-up working days (调休) with
    Monday's window, or a window of their own when the mapping gives one. ``always`` makes a
    24×7 calendar, where the other fields are ignored.
    """

    weekly: Mapping[int, Window | None] = field(default_factory=dict)
    holidays: frozenset = frozenset()
    workdays: Mapping[dt.date, Window | None] = field(default_factory=dict)
    tz: dt.tzinfo = ZoneInfo("Asia/Shanghai")
    always: bool = False

    # --- Days ------------------------------------------------------------------------------
    def window(self, day):
        """The working window of ``day`` as aware datetimes, or None on a rest day."""
        if day in self.holidays:
            return None
        if day in self.workdays:
            hours = self.workdays[day] or self.weekly.get(MONDAY)
        else:
            hours = self.weekly.get(day.weekday())
        if not hours:
            return None
        start, end = hours
        return (
            dt.datetime.combine(day, start, self.tz),
            dt.datetime.combine(day, end, self.tz),
        )

    def is_working_day(self, day):
        return self.always or self.window(day) is not None

    def _windows_from(self, day):
        for offset in range(SEARCH_DAYS):
            current = day + dt.timedelta(days=offset)
            window = self.window(current)
            if window is not None:
                yield current, window
        raise NoWorkingTime(f"no working day within {SEARCH_DAYS} days of {day}")

    def _windows_back_from(self, day):
        for offset in range(SEARCH_DAYS):
            current = day - dt.timedelta(days=offset)
            window = self.window(current)
            if window is not None:
                yield current, window
        raise NoWorkingTime(f"no working day within {SEARCH_DAYS} days before {day}")

    # --- Moments ---------------------------------------------------------------------------
    def local(self, moment):
        if moment.tzinfo is None:
            raise ValueError("business-time arithmetic needs aware datetimes")
        return moment.astimezone(self.tz)

    def next_working_moment(self, moment):
        """``moment`` if it is inside working time, else the start of the next working window."""
        moment = self.local(moment)
        if self.always:
            return moment
        for _, (start, end) in self._windows_from(moment.date()):
            if moment < end:
                return max(moment, start)
        raise AssertionError("unreachable")  # _windows_from raises when it runs out

    # --- Adding time -----------------------------------------------------------------------
    def add(self, start, delta):
        """The moment ``delta`` of counted time after ``start`` (working minutes on a working
        calendar). A negative ``delta`` counts backwards (a department reply due 1 hour before
        the answer)."""
        start = self.local(start)
        if self.always:
            return start + delta
        if delta < dt.timedelta(0):
            return self._subtract(start, -delta)
        moment = self.next_working_moment(start)
        remaining = delta
        for _, (window_start, window_end) in self._windows_from(moment.date()):
            moment = max(moment, window_start)
            available = window_end - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
        raise AssertionError("unreachable")

    def _subtract(self, end, delta):
        moment = end
        remaining = delta
        for _, (window_start, window_end) in self._windows_back_from(moment.date()):
            if moment <= window_start:
                continue
            moment = min(moment, window_end)
            available = moment - window_start
            if remaining <= available:
                return moment - remaining
            remaining -= available
            moment = window_start
        raise AssertionError("unreachable")

    def add_days(self, start, days):
        """``days`` working days after ``start``, at ``start``'s time of day (after moving a
        start outside working time to the next working moment). 24×7: calendar days."""
        start = self.local(start)
        if self.always:
            return start + dt.timedelta(days=days)
        start = self.next_working_moment(start)
        counted = 0
        for day, _ in self._windows_from(start.date() + dt.timedelta(days=1)):
            counted += 1
            if counted == days:
                return dt.datetime.combine(day, start.timetz().replace(tzinfo=None), self.tz)
        raise AssertionError("unreachable")

    # --- Measuring -------------------------------------------------------------------------
    def between(self, start, end):
        """Counted time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
        start, end = self.local(start), self.local(end)
        if end <= start:
            return dt.timedelta(0)
        if self.always:
            return end - start
        total = dt.timedelta(0)
        day = start.date()
        while day <= end.date():
            window = self.window(day)
            if window is not None:
                low, high = max(window[0], start), min(window[1], end)
                if high > low:
                    total += high - low
            day += dt.timedelta(days=1)
        return total


def always(tz=ZoneInfo("Asia/Shanghai")):
    return WorkingTime(always=True, tz=tz)


def office_hours(start=dt.time(8, 30), end=dt.time(17, 30), holidays=(), workdays=(), tz=ZoneInfo("Asia/Shanghai")):
    """Monday–Friday ``start``–``end`` with the given holidays and make-up working days (the
    product's default working calendar)."""
    return WorkingTime(
        weekly={day: (start, end) for day in range(5)},
        holidays=frozenset(holidays),
        workdays={day: None for day in workdays},
        tz=tz,
    )
