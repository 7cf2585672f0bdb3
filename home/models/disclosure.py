from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin

from estates.models import Project


class AdverseFactorCategory(models.TextChoices):
    """不利因素 categories (DOMAIN.md, lifecycle step 2)."""

    NOISE = "noise", _("噪声")
    ODOUR = "odour", _("异味")
    POLLUTION = "pollution", _("污染")
    RELIGIOUS = "religious", _("宗教场所")
    TABOO = "taboo", _("禁忌场所")
    RADIATION = "radiation", _("辐射")
    PLANNED_CHANGE = "planned_change", _("规划变化")


class AdverseFactor(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """不利因素公示: one disclosed factor of a project; public only after CS and legal review."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="adverse_factors", verbose_name=_("项目")
    )
    category = models.CharField(_("类别"), max_length=20, choices=AdverseFactorCategory.choices)
    title = models.CharField(_("名称"), max_length=100, help_text=_("如 地铁3号线高架段"))
    inside_boundary = models.BooleanField(_("在红线内"), default=False)
    distance_m = models.PositiveIntegerField(_("距离（米）"), null=True, blank=True)
    direction = models.CharField(_("方位"), max_length=20, blank=True, help_text=_("如 东侧"))
    description = models.TextField(_("说明"))
    photo = models.ForeignKey(
        "wagtailimages.Image", verbose_name=_("照片"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )

    panels = [
        FieldRowPanel([FieldPanel("project"), FieldPanel("category")]),
        FieldPanel("title"),
        FieldRowPanel([FieldPanel("inside_boundary"), FieldPanel("distance_m"), FieldPanel("direction")]),
        FieldPanel("description"),
        FieldPanel("photo"),
    ]

    class Meta:
        verbose_name = _("不利因素")
        verbose_name_plural = _("不利因素")
        ordering = ["project", "category", "distance_m"]
        indexes = [models.Index(fields=["project", "live"], name="adverse_project_live")]

    def __str__(self):
        return f"{self.project.name} · {self.title}"
