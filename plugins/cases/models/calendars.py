import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..calendars import WorkingTime


class WorkCalendar(models.Model):
    """A business calendar for SLA clocks: 24×7, or working hours per weekday with public
    holidays and make-up working days (ARCHITECTURE.md decision 8)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    always = models.BooleanField(_("全天候（7×24 小时）"), default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")

    def __str__(self):
        return self.name

    def working_time(self, around=None):
        """This calendar as a ``WorkingTime``. Holidays and make-up days are loaded for the
        years around ``around`` (a date; today by default)."""
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(settings.TIME_ZONE)
        if self.always:
            return WorkingTime(always=True, tz=tz)
        around = around or dt.date.today()
        weekly = {row.weekday: (row.start, row.end) for row in self.hours.all()}
        days = WorkCalendarDay.objects.filter(
            date__year__gte=around.year - 1, date__year__lte=around.year + 1
        ).values_list("date", "kind")
        holidays = frozenset(day for day, kind in days if kind == WorkCalendarDay.Kind.HOLIDAY)
        workdays = {day: None for day, kind in days if kind == WorkCalendarDay.Kind.WORKDAY}
        return WorkingTime(weekly=weekly, holidays=holidays, workdays=workdays, tz=tz)


class WorkCalendarHours(models.Model):
    calendar = models.ForeignKey(WorkCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(
        _("星期"), choices=[(0, _("周一")), (1, _("周二")), (2, _("周三")), (3, _("周四")),
                           (4, _("周五")), (5, _("周六")), (6, _("周日"))],
    )
    start = models.TimeField(_("上班"))
    end = models.TimeField(_("下班"))

    class Meta:
        ordering = ["weekday"]
        verbose_name = _("工作时间")
        verbose_name_plural = _("工作时间")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "weekday"], name="calendar_hours_weekday"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="calendar_hours_order"),
        ]


class WorkCalendarDay(models.Model):
    """A public holiday or a make-up working day (调休), shared by every working calendar."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"
