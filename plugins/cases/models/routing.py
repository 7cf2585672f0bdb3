"""Who gets a new case (自动派单) and the approved wording staff reuse (统一说辞): rows edited in
the admin (ARCHITECTURE.md decision 2)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin

from estates.models import Building, Contractor, Department, Project

from .choices import Kind, Priority
from .taxonomy import Category


class RoutingRule(models.Model):
    """派单规则: new cases matching the rule (kind, category with its children, project or
    building, priority; blank = any) are dispatched at once to its department and/or contractor
    and to one person of its pool, chosen in turn or by the fewest open cases. Active rules are
    tried in ascending ``order``; the first that matches dispatches."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("轮流分配")
        LEAST_LOADED = "least_loaded", _("未结工单最少者优先")

    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("工单类型"), max_length=20, choices=Kind.choices, blank=True,
                            help_text=_("留空表示任意类型。"))
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="routing_rules",
        verbose_name=_("分类"), help_text=_("留空表示任意分类；选中的分类包含其下级分类。"),
    )
    priority = models.CharField(_("紧急程度"), max_length=20, choices=Priority.choices, blank=True,
                                help_text=_("留空表示任意紧急程度。"))
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="routing_rules",
        verbose_name=_("项目"), help_text=_("留空表示全部项目。"),
    )
    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, null=True, blank=True, related_name="routing_rules",
        verbose_name=_("楼栋"), help_text=_("留空表示项目内全部楼栋。"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("派往部门")
    )
    contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("派往施工单位")
    )
    pool = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("处理人员池")
    )
    strategy = models.CharField(_("分配方式"), max_length=20, choices=Strategy.choices,
                                default=Strategy.ROUND_ROBIN)
    order = models.PositiveIntegerField(_("匹配顺序"), default=100, help_text=_("数字小的先匹配。"))
    active = models.BooleanField(_("启用"), default=True)
    # Round-robin pointer: the pool member who got the last case.
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )

    history = HistoricalRecords(excluded_fields=["last_assignee"])

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        indexes = [models.Index(fields=["active", "order"], name="routing_rule_lookup")]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.category_id and self.kind and self.category.kind != self.kind:
            errors["category"] = _("分类与工单类型不符。")
        if self.building_id and self.project_id and self.building.project_id != self.project_id:
            errors["building"] = _("楼栋不属于所选项目。")
        if errors:
            raise ValidationError(errors)


class StandardReply(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """统一说辞: approved wording staff insert into notes and messages to owners. Goes live only
    through the review; staff are offered live replies only."""

    title = models.CharField(_("标题"), max_length=80)
    kind = models.CharField(_("工单类型"), max_length=20, choices=Kind.choices, blank=True,
                            help_text=_("留空表示任意类型。"))
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="standard_replies",
        verbose_name=_("分类"), help_text=_("留空表示任意分类。"),
    )
    text = models.TextField(_("内容"), max_length=2000)
    sort_order = models.PositiveIntegerField(_("排序"), default=100)

    class Meta:
        ordering = ["sort_order", "pk"]
        verbose_name = _("统一说辞")
        verbose_name_plural = _("统一说辞")

    def __str__(self):
        return self.title
