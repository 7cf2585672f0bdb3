from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from estates.models import Building, Contractor, Department, Owner, Project, Unit

from .choices import OPEN_STATUSES, ActorType, Channel, ComplaintGrade, Kind, Priority, Status
from .taxonomy import Category


class CaseCounter(models.Model):
    """The last number given per kind and day (Asia/Shanghai date): BX20261123-0007 is the 7th
    repair of 23 November 2026. Incremented under a row lock (ARCHITECTURE.md decision 6)."""

    kind = models.CharField(max_length=20, choices=Kind.choices)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "day"], name="case_counter_kind_day")]


def holder(path=""):
    """The contractor that had the repair's one chance (figures.py): the original contractor
    once the work went to a third party, else the contractor. ``path`` leads to the case."""
    return Coalesce(f"{path}original_contractor", f"{path}contractor")


class Case(models.Model):
    """工单: one repair, complaint or enquiry, from registration to close. Change it only through
    plugins/cases/services.py, which writes the timeline event and the history row."""

    number = models.CharField(_("工单号"), max_length=24, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("来源渠道"), max_length=20, choices=Channel.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("分类")
    )
    priority = models.CharField(_("紧急程度"), max_length=20, choices=Priority.choices, default=Priority.NORMAL)
    complaint_grade = models.CharField(_("投诉等级"), max_length=20, choices=ComplaintGrade.choices, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED)

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="cases", verbose_name=_("项目"))
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("楼栋")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("房号")
    )
    owner = models.ForeignKey(
        Owner, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("业主")
    )
    reporter_name = models.CharField(_("报事人"), max_length=50)
    reporter_mobile = models.CharField(_("联系电话"), max_length=11, db_index=True)
    description = models.TextField(_("问题描述"), max_length=2000)

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("责任部门")
    )
    contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("施工单位")
    )
    # The contractor that had the one chance, once the work went to a third party.
    original_contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, null=True, blank=True, related_name="lost_cases",
        verbose_name=_("原施工单位"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_cases", verbose_name=_("处理人"),
    )

    pause_reason = models.CharField(_("暂停原因"), max_length=20, blank=True)
    paused_from = models.CharField(max_length=20, choices=Status.choices, blank=True, editable=False)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    repeat_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats",
        verbose_name=_("重复报修的前一单"),
    )
    # Where the case came from when not typed in by staff, e.g. "portal_forms.submission:812".
    source = models.CharField(_("来源记录"), max_length=80, blank=True)
    # The description cut into searchable words (plugins/cases/search.py), indexed for full
    # text search (ARCHITECTURE.md decision 11); written with the description.
    search_words = models.TextField(blank=True, editable=False)

    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完工时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("登记人"),
    )

    history = HistoricalRecords(excluded_fields=["search_words"])

    class Meta:
        ordering = ["-registered_at", "-pk"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        permissions = [
            ("handle_case", _("可以处理工单（受理、联系、开工、暂停、完工、备注）")),
            ("dispatch_case", _("可以派单")),
            ("callback_case", _("可以回访与业主验收")),
            ("close_case", _("可以关闭或取消工单")),
            ("manage_case", _("可以升级、重开、转第三方")),
            ("approve_compensation", _("可以审批赔付")),
            ("view_figures", _("可以查看指标看板")),
        ]
        constraints = [
            # One case per source record: a re-delivered form submission opens nothing twice.
            models.UniqueConstraint(fields=["source"], condition=~Q(source=""), name="case_unique_source"),
        ]
        indexes = [
            models.Index(fields=["project", "status", "registered_at"], name="case_project_status"),
            models.Index(fields=["status", "registered_at"], name="case_status"),
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            models.Index(fields=["unit", "category", "registered_at"], name="case_unit_category"),
            models.Index(fields=["contractor", "status"], name="case_contractor_status"),
            # An exact reporter name is the alternative of a text search (queues.search_cases);
            # without it PostgreSQL answers "text OR name" with a table scan.
            models.Index(fields=["reporter_name"], name="case_reporter_name"),
            # The list filtered by one of these, newest first, reads the page from the index.
            models.Index(fields=["category", "registered_at"], name="case_category_time"),
            models.Index(fields=["kind", "registered_at"], name="case_kind_time"),
            models.Index(fields=["contractor", "registered_at"], name="case_contractor_time"),
            # Staff limited to their projects see every list narrowed by project first.
            models.Index(fields=["project", "registered_at"], name="case_project_time"),
            models.Index(fields=["project", "category", "registered_at"], name="case_project_category"),
            # One caller's cases, newest first: a frequent caller has thousands of them.
            models.Index(fields=["reporter_mobile", "registered_at"], name="case_mobile_time"),
            # The contractor that had the repair's one chance (drilldown.apply_holder), newest
            # first: "original, or else current" is one indexed value instead of an OR.
            models.Index(holder(), "registered_at", name="case_holder_time"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def clean(self):
        if self.unit_id and self.unit.project_id != self.project_id:
            raise ValidationError({"unit": _("房号不属于所选项目。")})
        if self.building_id and self.building.project_id != self.project_id:
            raise ValidationError({"building": _("楼栋不属于所选项目。")})


class ImmutableRecord(models.Model):
    """A row written once and never changed nor deleted (timeline, ledgers)."""

    immutable_message = _("记录写入后不能修改或删除。")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(self.immutable_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.immutable_message)


#: A call-back whose low score reopened the case (services.callback: score below LOW_SCORE).
LOW_SCORE_EVENTS = Q(verb="callback", data__reopened=True)
#: The events that mean a repair was not fixed the first time (figures.py): reopened, rejected
#: at sign-off, or a low call-back score.
FAILED_EVENTS = Q(verb="reopen") | Q(verb="sign_off", data__accepted=False) | LOW_SCORE_EVENTS


class CaseEvent(ImmutableRecord):
    """One line of a case's timeline: a transition, note, call, message or file, with its actor
    and whether the owner may see it. Written once, never changed nor deleted."""

    class Type(models.TextChoices):
        TRANSITION = "transition", _("状态变更")
        NOTE = "note", _("备注")
        CALL = "call", _("电话")
        MESSAGE = "message", _("消息")
        FILE = "file", _("附件")
        CLOCK = "clock", _("时限")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("工单"))
    type = models.CharField(_("类别"), max_length=20, choices=Type.choices)
    verb = models.CharField(_("动作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices, blank=True)
    actor_type = models.CharField(_("操作方"), max_length=20, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("操作人"),
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=100, blank=True)
    text = models.TextField(_("内容"), blank=True)
    visible_to_owner = models.BooleanField(_("业主可见"), default=False)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        indexes = [
            models.Index(fields=["case", "created_at"], name="case_event_case_time"),
            # The few events the dashboard's drill-down lists look for ("not fixed first time",
            # "low score"): without them PostgreSQL scans every event of the timeline.
            models.Index(fields=["case"], condition=FAILED_EVENTS, name="case_event_failed"),
            models.Index(fields=["case"], condition=LOW_SCORE_EVENTS, name="case_event_low_score"),
        ]

    immutable_message = _("工单记录写入后不能修改或删除。")

    def __str__(self):
        return f"{self.case_id} {self.verb}"
