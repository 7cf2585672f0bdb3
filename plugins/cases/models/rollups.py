"""Monthly roll-ups of the case figures the manager dashboard shows (plugins/cases/rollups.py
computes them; plugins/cases/dashboard.py reads them).

Every figure is about a cohort: the cases registered in a month (Asia/Shanghai) of a project.
One ``CaseRollup`` row holds that cohort's counts, for the whole cohort (dimension ``all``) and
broken down by one dimension at a time (kind, category, channel, contractor, department), so a
year of every project is some tens of thousands of rows instead of a million cases. Rows are
derived data: they are rebuilt from the cases, clocks and events, never typed in.

A change to a case leaves a ``RollupMark`` (project, month) in the same transaction; the sweep
recomputes the marked cohorts and deletes the marks it read. A mark written by a transaction
that has not committed yet is not read, so its cohort is recomputed by the next sweep: a roll-up
lags by at most one sweep. A breach the sweep records is added to the rows in place instead
(rollups.count_breaches), in the sweep's transaction.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from estates.models import Project


class Dimension(models.TextChoices):
    ALL = "all", _("合计")
    KIND = "kind", _("类型")
    CATEGORY = "category", _("分类")
    CHANNEL = "channel", _("来源渠道")
    CONTRACTOR = "contractor", _("施工单位")
    DEPARTMENT = "department", _("责任部门")


class CaseRollup(models.Model):
    month = models.DateField(_("登记月份"))  # the first day of the month
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", verbose_name=_("项目"))
    dimension = models.CharField(_("维度"), max_length=20, choices=Dimension.choices)
    # The code (kind, channel) or primary key (category, contractor, department) as text;
    # "" for the whole cohort and for cases without one.
    key = models.CharField(_("取值"), max_length=40, blank=True)

    cases_in = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    # Open cases with a running clock the sweep has recorded as breached: summed over every
    # month, the dashboard's "breached now" without reading the running clocks.
    late_open = models.PositiveIntegerField(default=0)
    repairs = models.PositiveIntegerField(default=0)
    # First-time fix (figures.py): repairs whose contractor's one chance is over, and of those
    # the ones fixed the first time and the ones handed to a third party.
    repairs_counted = models.PositiveIntegerField(default=0)
    first_time = models.PositiveIntegerField(default=0)
    third_party = models.PositiveIntegerField(default=0)
    repeats = models.PositiveIntegerField(default=0)
    # Call-backs that reached the owner with a score (owners' own ratings included), and the
    # cases that got a score below 3 (the drill-down lists cases).
    scored = models.PositiveIntegerField(default=0)
    score_total = models.PositiveIntegerField(default=0)
    low_scores = models.PositiveIntegerField(default=0)
    # Per clock: decided (stopped or breached) and met (stopped, not breached). Columns, not
    # JSON, so the dashboard adds them up in SQL.
    acknowledgement_decided = models.PositiveIntegerField(default=0)
    acknowledgement_met = models.PositiveIntegerField(default=0)
    contact_decided = models.PositiveIntegerField(default=0)
    contact_met = models.PositiveIntegerField(default=0)
    answer_decided = models.PositiveIntegerField(default=0)
    answer_met = models.PositiveIntegerField(default=0)
    department_reply_decided = models.PositiveIntegerField(default=0)
    department_reply_met = models.PositiveIntegerField(default=0)
    on_site_decided = models.PositiveIntegerField(default=0)
    on_site_met = models.PositiveIntegerField(default=0)
    resolution_decided = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    callback_decided = models.PositiveIntegerField(default=0)
    callback_met = models.PositiveIntegerField(default=0)
    recheck_decided = models.PositiveIntegerField(default=0)
    recheck_met = models.PositiveIntegerField(default=0)
    # {measure: {bucket: count}} for the whole cohort only (dimension "all"): see rollups.BUCKETS.
    durations = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("工单指标汇总")
        verbose_name_plural = _("工单指标汇总")
        constraints = [
            models.UniqueConstraint(fields=["month", "project", "dimension", "key"], name="case_rollup_unique"),
        ]
        indexes = [models.Index(fields=["month", "dimension"], name="case_rollup_month")]


class RollupMark(models.Model):
    """A cohort whose roll-up is stale: appended, never updated, deleted once recomputed."""

    project_id = models.PositiveBigIntegerField()
    month = models.DateField()


class RollupState(models.Model):
    """One row: when the roll-ups were last brought up to date (the dashboard's "as of")."""

    refreshed_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)
