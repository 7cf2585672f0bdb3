from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel
from wagtail.fields import StreamField
from wagtail.models import Orderable
from wagtail.search import index

from estates.models import Building, Project
from search.segment import index_text
from search.text import join_text, stream_text

from ..blocks import BodyBlock
from .base import PortalPage, paginate, project_filter, public_q


class ProgressBulletinIndexPage(PortalPage):
    """客户通讯: the list of progress bulletins, filterable by project."""

    intro = models.CharField(_("导语"), max_length=250, blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["home.ProgressBulletinPage"]
    max_count = 1

    class Meta:
        verbose_name = _("工程进展列表")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(project_filter(request))
        project = context["selected_project"]
        bulletins = (
            ProgressBulletinPage.objects.child_of(self).live().filter(public_q())
            .select_related("project", "cover_image")
            .prefetch_related("cover_image__renditions")
            .order_by("-issue_date", "-pk")
        )
        if project:
            bulletins = bulletins.filter(project=project)
        context["bulletins"] = paginate(request, bulletins, 10)
        return context


class Stage(models.TextChoices):
    FOUNDATION = "foundation", _("基础施工")
    STRUCTURE = "structure", _("主体施工")
    TOPPED_OUT = "topped_out", _("主体封顶")
    FACADE = "facade", _("外立面施工")
    FIT_OUT = "fit_out", _("室内装修")
    LANDSCAPE = "landscape", _("园林景观")
    ACCEPTANCE = "acceptance", _("竣工验收")
    HANDOVER = "handover", _("交付准备")


class ProgressBulletinPage(PortalPage):
    """客户通讯 / 工程进展信息通报: one issue with photos and progress per building."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="bulletins", verbose_name=_("项目")
    )
    issue_date = models.DateField(_("发布日期"))
    period = models.CharField(_("通报期间"), max_length=50, help_text=_("如 2026年10月"))
    stage = models.CharField(_("工程阶段"), max_length=20, choices=Stage.choices)
    summary = models.CharField(_("摘要"), max_length=250, blank=True)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("封面图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)

    content_panels = PortalPage.content_panels + [
        FieldPanel("project"),
        FieldRowPanel([FieldPanel("issue_date"), FieldPanel("period"), FieldPanel("stage")]),
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        InlinePanel("progress", heading=_("各楼栋进度"), label=_("楼栋进度")),
        FieldPanel("body"),
    ]
    search_fields = PortalPage.search_fields + [index.FilterField("project_id")]
    parent_page_types = ["home.ProgressBulletinIndexPage"]
    route_select_related = ("project", "cover_image", "share_image")
    subpage_types = []

    class Meta:
        verbose_name = _("工程进展通报")
        indexes = [models.Index(fields=["project", "issue_date"], name="bulletin_project_date")]

    def search_text(self):
        with translation.override(settings.LANGUAGE_CODE):
            stage = self.get_stage_display()
        return join_text(super().search_text(), self.period, stage, stream_text(self.body))

    def search_words(self):
        # Also the project and each building's progress note ("3号楼 主体施工至18层"). Child rows
        # are saved after the page itself, so search/signals.py indexes again on publishing.
        rows = [f"{row.building.name} {row.note}" for row in self.progress.select_related("building")]
        return index_text(self.title, self.search_text(), self.project.name, *rows)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["progress_rows"] = list(self.progress.select_related("building").all())
        return context


class BuildingProgress(Orderable):
    page = ParentalKey(ProgressBulletinPage, on_delete=models.CASCADE, related_name="progress")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("楼栋"))
    percent = models.PositiveSmallIntegerField(
        _("完成百分比"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.CharField(_("说明"), max_length=200, blank=True, help_text=_("如 主体施工至18层"))

    panels = [FieldRowPanel([FieldPanel("building"), FieldPanel("percent")]), FieldPanel("note")]

    class Meta(Orderable.Meta):
        verbose_name = _("楼栋进度")
