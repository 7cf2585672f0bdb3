"""cases.W001: a working calendar in use meets a year without public-holiday data
(ARCHITECTURE.md decision 8).

Holidays and make-up working days come from ``chinesecalendar`` for the years it knows; later
years are added by an administrator once the State Council publishes them. Until then
WorkingTime counts that year on the calendar's weekly hours alone (Monday–Friday for the
shipped office calendar): holidays count as working days, make-up Saturdays do not. The same
finding is shown on the admin home (admin_hooks) to staff who can see cases.

Registered by CasesPlugin.ready(), so only an enabled case desk is checked.
"""

import datetime as dt
from dataclasses import dataclass

from django.core import checks
from django.db import DatabaseError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class MissingHolidays:
    years: list
    calendars: list  # names of the working calendars in use

    @property
    def message(self):
        return _(
            "工作日历“%(calendars)s”缺少 %(years)s 年的法定节假日数据：这些年份暂按每周工作时间（周一至周五）计算，"
            "节假日照常计时，调休上班日不计时。"
        ) % self._params()

    @property
    def hint(self):
        return _(
            "国务院公布放假安排后，请在后台“客服工单 → 节假日与调休”中录入 %(years)s 年的法定节假日和调休上班日。"
        ) % self._params()

    def _params(self):
        return {"calendars": "”“".join(self.calendars), "years": "、".join(str(year) for year in self.years)}


def years_to_check(today):
    """This year, and next year too once it is December (the State Council publishes the next
    year's holidays around November)."""
    return [today.year, today.year + 1] if today.month == 12 else [today.year]


def missing_holidays(today=None):
    """What is missing now (Asia/Shanghai date), or None when every year checked has holiday
    rows or no working calendar is in use."""
    from .models import CaseClock, SLATarget, WorkCalendar, WorkCalendarDay

    today = today or timezone.localdate()
    holidays = WorkCalendarDay.objects.filter(kind=WorkCalendarDay.Kind.HOLIDAY)
    years = [
        year for year in years_to_check(today)
        if not holidays.filter(date__gte=dt.date(year, 1, 1), date__lt=dt.date(year + 1, 1, 1)).exists()
    ]
    if not years:
        return None
    # In use: a target of an active policy starts clocks on it, or a clock still runs on it.
    in_use = WorkCalendar.objects.filter(always=False).filter(
        Q(Exists(SLATarget.objects.filter(calendar=OuterRef("pk"), policy__active=True)))
        | Q(Exists(CaseClock.objects.filter(calendar=OuterRef("pk"), stopped_at__isnull=True)))
    )
    names = list(in_use.order_by("code").values_list("name", flat=True))
    return MissingHolidays(years, names) if names else None


@checks.register("cases")
def check_holiday_data(app_configs=None, **kwargs):
    try:
        missing = missing_holidays()
    except DatabaseError:
        return []  # no database yet (before migrate, or a build step): nothing to say
    if missing is None:
        return []
    return [checks.Warning(missing.message, hint=missing.hint, id="cases.W001")]
