"""SLA policies (admin-edited rules) and the clocks they start on cases (ARCHITECTURE.md
decision 7; DOMAIN.md "Clocks").

A policy says which cases it covers (kind, optionally a category with its children, a priority,
a project) and carries one target per clock. When a clock starts, its target is *copied* onto
the case's ``CaseClock`` row, so editing a policy never moves a running clock. The arithmetic
lives in ``plugins/cases/clocks.py``; these rows hold data and row-level invariants only.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from estates.models import Project

from .calendars import WorkCalendar
from .cases import Case
from .choices import ClockKind, Kind, Priority
from .taxonomy import Category


class TargetUnit(models.TextChoices):
    MINUTES = "minutes", _("分钟")
    HOURS = "hours", _("小时")
    # On a working calendar: working days, due at the same time of day on the last one;
    # on a 24×7 calendar: calendar days.
    DAYS = "days", _("天（工作日历按工作日计）")


UNIT_DELTAS = {TargetUnit.MINUTES: dt.timedelta(minutes=1), TargetUnit.HOURS: dt.timedelta(hours=1)}


class SLAPolicy(models.Model):
    """时限规则: the targets for the cases it matches. Active policies of the case's kind are
    tried in ascending ``order``; at equal order the more specific wins (project, then category,
    then priority); the first that matches gives the targets."""

    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("工单类型"), max_length=20, choices=Kind.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="sla_policies",
        verbose_name=_("分类"), help_text=_("留空表示该类型的全部分类；选中的分类包含其下级分类。"),
    )
    priority = models.CharField(
        _("紧急程度"), max_length=20, choices=Priority.choices, blank=True, help_text=_("留空表示任意紧急程度。")
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_policies",
        verbose_name=_("项目"), help_text=_("留空表示全部项目。"),
    )
    order = models.PositiveIntegerField(_("匹配顺序"), default=100, help_text=_("数字小的先匹配，第一条匹配的规则生效。"))
    active = models.BooleanField(_("启用"), default=True)
    repeat_window_days = models.PositiveSmallIntegerField(
        _("重复报修判定（天）"), default=90,
        help_text=_("同一房号同一分类在该天数内再次报修即标记为重复报修并升级；0 表示不判定。"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "order", "pk"]
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        indexes = [models.Index(fields=["kind", "active", "order"], name="sla_policy_lookup")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.category_id and self.category.kind != self.kind:
            raise ValidationError({"category": _("分类与工单类型不符。")})

    def specificity(self):
        """Sort key after ``order``: project-specific before general, then category, then
        priority (smaller sorts first)."""
        return (self.project_id is None, self.category_id is None, not self.priority, self.pk or 0)


class SLATarget(models.Model):
    """One clock of a policy: a duration on a calendar, or (``before_clock``) a time that
    many minutes/hours before another clock of the same case falls due, on that clock's
    calendar (the department's reply: 1 hour before the answer to the owner)."""

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="targets", verbose_name=_("时限规则"))
    clock = models.CharField(_("时限"), max_length=20, choices=ClockKind.choices)
    amount = models.PositiveIntegerField(_("时长"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("单位"), max_length=20, choices=TargetUnit.choices, default=TargetUnit.HOURS)
    before_clock = models.CharField(
        _("早于"), max_length=20, choices=ClockKind.choices, blank=True,
        help_text=_("填写时，本时限为该时限到期前的上述时长，使用同一日历（如部门回复早于答复业主 1 小时）。"),
    )
    calendar = models.ForeignKey(
        WorkCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("日历"), help_text=_("“早于”某时限时留空，沿用该时限的日历。"),
    )
    remind_percent = models.PositiveSmallIntegerField(
        _("提醒进度（%）"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("用时达到该比例时提醒处理人；按工作日计的时限在到期当天上班时提醒。"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "pk"]
        verbose_name = _("时限目标")
        verbose_name_plural = _("时限目标")
        constraints = [
            models.UniqueConstraint(fields=["policy", "clock"], name="sla_target_policy_clock"),
            models.CheckConstraint(condition=~Q(clock=models.F("before_clock")), name="sla_target_not_before_itself"),
        ]

    def __str__(self):
        return f"{self.get_clock_display()} {self.amount} {self.get_unit_display()}"

    def clean(self):
        if self.before_clock:
            if self.before_clock == self.clock:
                raise ValidationError({"before_clock": _("不能早于自身。")})
            if self.unit == TargetUnit.DAYS:
                raise ValidationError({"unit": _("“早于”某时限时只能按分钟或小时计。")})
            if self.calendar_id:
                raise ValidationError({"calendar": _("“早于”某时限时沿用该时限的日历，请留空。")})
        elif not self.calendar_id:
            raise ValidationError({"calendar": _("请选择日历。")})


class CaseClock(models.Model):
    """One clock on one case (受理确认, 联系业主, 答复业主, … 回访): the target copied from the
    policy when it started, and the moments that matter to the sweep.

    A clock runs once per ``round``. A reopened case, or work handed to a third party, starts a
    new round of the clocks it restarts; the earlier round keeps its record (a breach stays a
    breach). At most one round per case and clock runs at a time.

    ``paused_total`` is counted on the clock's own calendar (working minutes on a working
    calendar), the amount by which due, reminder and escalation times have moved.
    ``sweep_at`` is the next moment the sweep has to act on this clock (reminder, breach or
    manager escalation), null when nothing is pending or the clock is paused or stopped.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("工单"))
    clock = models.CharField(_("时限"), max_length=20, choices=ClockKind.choices)
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    policy = models.ForeignKey(
        SLAPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("时限规则")
    )
    # The target as copied from the policy.
    amount = models.PositiveIntegerField(_("时长"))
    unit = models.CharField(_("单位"), max_length=20, choices=TargetUnit.choices)
    before_clock = models.CharField(_("早于"), max_length=20, choices=ClockKind.choices, blank=True)
    calendar = models.ForeignKey(WorkCalendar, on_delete=models.PROTECT, related_name="+", verbose_name=_("日历"))
    remind_percent = models.PositiveSmallIntegerField(_("提醒进度（%）"), default=80)

    started_at = models.DateTimeField(_("开始时间"))
    paused_since = models.DateTimeField(_("暂停于"), null=True, blank=True)
    paused_total = models.DurationField(_("累计暂停"), default=dt.timedelta(0))
    due_at = models.DateTimeField(_("到期时间"))
    remind_at = models.DateTimeField(_("提醒时间"))
    escalate_at = models.DateTimeField(_("升级至经理时间"), help_text=_("超时后再过目标时长的 50%"))
    sweep_at = models.DateTimeField(_("下次检查"), null=True, blank=True, editable=False)

    reminded_at = models.DateTimeField(_("已提醒于"), null=True, blank=True)
    breached_at = models.DateTimeField(_("超时于"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    escalated_at = models.DateTimeField(_("最近升级于"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["case", "started_at", "pk"]
        verbose_name = _("工单时限")
        verbose_name_plural = _("工单时限")
        constraints = [
            models.UniqueConstraint(fields=["case", "clock", "round"], name="case_clock_round"),
            models.UniqueConstraint(
                fields=["case", "clock"], condition=Q(stopped_at__isnull=True), name="case_clock_one_running"
            ),
        ]
        indexes = [
            # The sweep reads only what is due now: cost grows with the work due, not the cases.
            models.Index(fields=["sweep_at", "id"], condition=Q(stopped_at__isnull=True), name="case_clock_sweep"),
            # Queues ("due within 2 hours", "reminders due") over running clocks.
            models.Index(fields=["due_at"], condition=Q(stopped_at__isnull=True), name="case_clock_running_due"),
            models.Index(fields=["remind_at"], condition=Q(stopped_at__isnull=True), name="case_clock_running_remind"),
            # "Has this case a running clock that is late?" (the breached queue) for each case
            # of a project, from the index alone: most cases have no running clock, and the
            # times of those that do are in it (staff breached count 69 -> 38 ms on PostgreSQL).
            models.Index(fields=["case", "due_at", "paused_since", "breached_at"], condition=Q(stopped_at__isnull=True),
                         name="case_clock_running_case"),
            # "Was this case's contact (answer, …) clock late?" (the dashboard's drill-downs) from
            # the index alone: only the breached clocks are in it.
            models.Index(fields=["case", "clock"], condition=Q(breached_at__isnull=False), name="case_clock_breached"),
        ]

    def __str__(self):
        suffix = f" #{self.round}" if self.round > 1 else ""
        return f"{self.case_id} {self.get_clock_display()}{suffix}"

    @property
    def running(self):
        return self.stopped_at is None

    @property
    def paused(self):
        return self.stopped_at is None and self.paused_since is not None

    @property
    def met(self):
        """Stopped in time."""
        return self.stopped_at is not None and self.breached_at is None

    def key(self, what):
        """A stable key for one notification of this clock (ARCHITECTURE.md decision 9):
        ``case:812:resolution:remind``, ``case:812:resolution#2:breach`` for a second round."""
        clock = self.clock if self.round == 1 else f"{self.clock}#{self.round}"
        return f"case:{self.case_id}:{clock}:{what}"
