"""Owner interviews (DOMAIN.md step 7: each employee interviews at least 12 owners a year,
managers 6) and what they found.

A finding that becomes a case keeps only the case's number and link (``case_reference``,
``case_url``): the case desk is another plugin, and plugins hold no foreign key to each other
(ARCHITECTURE.md decision 1). The case, in turn, names the finding in its ``source``
(``interviews.finding:<pk>``).
"""

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from simple_history.models import HistoricalRecords
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.contrib.settings.models import BaseGenericSetting
from wagtail.contrib.settings.registry import register_setting

from estates.models import Owner, Ownership, Project, Unit

#: The seeds' figures (DOMAIN.md step 7): the shipped defaults of InterviewTargets.
STAFF_TARGET = 12
MANAGER_TARGET = 6


class Method(models.TextChoices):
    VISIT = "visit", _("上门")
    PHONE = "phone", _("电话")
    WALK_IN = "walk_in", _("来访")
    OTHER = "other", _("其他")


class FindingKind(models.TextChoices):
    """What the finding would be as a case; the same values as the case desk's kinds."""

    REPAIR = "repair", _("报修")
    COMPLAINT = "complaint", _("投诉")
    ENQUIRY = "enquiry", _("咨询")


@register_setting(icon="group")
class InterviewTargets(BaseGenericSetting):
    """How many interviews a year each employee owes: a business rule the administrator edits
    (ARCHITECTURE.md decision 2); the row is created with the seeds' figures on migrate."""

    staff_target = models.PositiveSmallIntegerField(
        _("员工年度访谈目标（次）"), default=STAFF_TARGET, help_text=_("每位员工每年至少访谈的业主次数")
    )
    manager_target = models.PositiveSmallIntegerField(
        _("经理年度访谈目标（次）"), default=MANAGER_TARGET, help_text=_("经理每年至少访谈的业主次数")
    )
    manager_groups = models.ManyToManyField(
        Group, blank=True, related_name="+", verbose_name=_("按经理目标考核的用户组"),
        help_text=_("属于这些用户组的员工按经理目标考核，其余员工按员工目标考核"),
    )

    panels = [
        FieldRowPanel([FieldPanel("staff_target"), FieldPanel("manager_target")]),
        FieldPanel("manager_groups", widget=forms.CheckboxSelectMultiple),
    ]

    class Meta:
        verbose_name = _("业主访谈目标")
        verbose_name_plural = _("业主访谈目标")


def validate_not_future(value):
    if value and value > timezone.localdate():
        raise ValidationError(_("访谈日期不能晚于今天。"), code="future")


class Interview(ClusterableModel):
    """业主访谈: one conversation of a staff member with an owner (or about a unit), with its
    findings. The interviewer is the staff member who logs it."""

    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interviews", verbose_name=_("访谈人"),
        editable=False,
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="interviews", verbose_name=_("项目"))
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="interviews", verbose_name=_("房号"),
        help_text=_("可选；须属于所选项目"),
    )
    owner = models.ForeignKey(
        Owner, on_delete=models.PROTECT, null=True, blank=True, related_name="interviews", verbose_name=_("业主"),
        help_text=_("可选；同时选了房号时，须是该房号的现业主"),
    )
    date = models.DateField(_("访谈日期"), default=timezone.localdate, validators=[validate_not_future])
    method = models.CharField(_("访谈方式"), max_length=20, choices=Method.choices, default=Method.VISIT)
    topics = models.CharField(_("访谈主题"), max_length=200, help_text=_("如：入住体验、物业服务、公共设施"))
    summary = models.TextField(_("访谈纪要"), max_length=4000, blank=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("业主访谈")
        verbose_name_plural = _("业主访谈")
        indexes = [
            # The list narrowed to the user's projects, newest first; the year's progress per project.
            models.Index(fields=["project", "date"], name="interview_project_date"),
            # 我的访谈 and each employee's count in a year.
            models.Index(fields=["interviewer", "date"], name="interview_interviewer_date"),
            models.Index(fields=["date"], name="interview_date"),
        ]

    def __str__(self):
        who = self.owner.name if self.owner_id else (self.unit.label if self.unit_id else "")
        return f"{self.date:%Y-%m-%d} {who} {self.topics}".strip()

    def clean(self):
        """The unit belongs to the project, the owner is a current owner of the unit (or, with
        no unit, of a unit in the project), the date is not in the future."""
        errors = {}
        if self.unit_id and self.project_id and self.unit.project_id != self.project_id:
            errors["unit"] = _("房号“%(unit)s”不属于所选项目。") % {"unit": self.unit.label}
        elif self.owner_id and self.project_id:
            current = Ownership.objects.filter(owner_id=self.owner_id, end__isnull=True)
            if self.unit_id and not current.filter(unit_id=self.unit_id).exists():
                errors["owner"] = _("“%(owner)s”不是房号“%(unit)s”的现业主。") % {
                    "owner": self.owner.name, "unit": self.unit.label}
            elif not self.unit_id and not current.filter(unit__project_id=self.project_id).exists():
                errors["owner"] = _("“%(owner)s”在所选项目没有房产。") % {"owner": self.owner.name}
        if errors:
            raise ValidationError(errors)

    def interviewer_name(self):
        return display_name(self.interviewer)

    interviewer_name.short_description = _("访谈人")

    def unit_label(self):
        return self.unit.label if self.unit_id else ""

    unit_label.short_description = _("房号")

    def owner_name(self):
        return self.owner.name if self.owner_id else ""

    owner_name.short_description = _("业主")


class ParentalHistory(HistoricalRecords):
    """simple-history copies a ParentalKey as a ParentalKey, which refuses the ``related_name="+"``
    every historical foreign key gets (modelcluster.E002); a plain foreign key is what the
    historical row needs."""

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for field in fields.values():
            if isinstance(field, ParentalKey):
                field.__class__ = models.ForeignKey
        return fields


class Finding(models.Model):
    """A problem heard in an interview. Raised once as a case: the case's number and link are
    kept here, and a raised finding is not edited or deleted any more (the case holds its copy)."""

    interview = ParentalKey(Interview, on_delete=models.CASCADE, related_name="findings", verbose_name=_("访谈"))
    kind = models.CharField(_("问题类型"), max_length=20, choices=FindingKind.choices)
    text = models.TextField(_("问题描述"), max_length=2000)
    category_hint = models.CharField(
        _("分类提示"), max_length=50, blank=True, help_text=_("可选，如“渗漏水”“电梯”；与工单分类同名时立案自动归类")
    )
    case_reference = models.CharField(_("工单号"), max_length=24, blank=True, editable=False)
    case_url = models.CharField(_("工单链接"), max_length=200, blank=True, editable=False)
    raised_at = models.DateTimeField(_("转工单时间"), null=True, blank=True, editable=False)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("转工单人"), editable=False,
    )

    history = ParentalHistory()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("发现的问题")
        verbose_name_plural = _("发现的问题")

    def __str__(self):
        return self.text[:40]

    @property
    def is_raised(self):
        return bool(self.case_reference)


def display_name(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
