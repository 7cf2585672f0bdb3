from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Site

from estates.models import Project
from search.text import html_to_text, join_text, stream_text

from ..blocks import MilestonesBlock
from .base import PortalPage, public_q


class ProjectPage(PortalPage):
    """One project (楼盘) on the portal, linked to its registry record."""

    project = models.OneToOneField(
        Project, on_delete=models.PROTECT, related_name="page", verbose_name=_("项目档案")
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("头图"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.CharField(_("一句话介绍"), max_length=200, blank=True)
    hotline = models.CharField(
        _("客服热线"), max_length=50, blank=True, help_text=_("留空则使用项目档案中的热线")
    )
    service_plan = RichTextField(_("客户服务方案"), blank=True)
    delivery_standard = RichTextField(_("交付标准"), blank=True)
    milestones = StreamField(MilestonesBlock(), verbose_name=_("工程节点"), blank=True)

    content_panels = PortalPage.content_panels + [
        FieldPanel("project"),
        FieldPanel("hero_image"),
        FieldPanel("summary"),
        FieldPanel("hotline"),
        MultiFieldPanel([FieldPanel("service_plan"), FieldPanel("delivery_standard")], heading=_("服务与交付")),
        FieldPanel("milestones"),
    ]
    parent_page_types = ["home.HomePage"]
    route_select_related = ("project", "hero_image", "share_image")
    subpage_types = ["home.StandardPage", "portal_forms.ServiceFormPage"]

    class Meta:
        verbose_name = _("项目主页")

    @property
    def service_hotline(self):
        return self.hotline or self.project.hotline

    def search_text(self):
        return join_text(
            super().search_text(), html_to_text(self.service_plan), html_to_text(self.delivery_standard),
            stream_text(self.milestones),
        )

    @cached_property
    def adverse_factors(self):
        from .disclosure import AdverseFactor

        return list(
            AdverseFactor.objects.filter(project_id=self.project_id, live=True)
            .select_related("photo")
            .order_by("category", "distance_m", "pk")
        )

    def get_context(self, request, *args, **kwargs):
        from .bulletins import ProgressBulletinIndexPage, ProgressBulletinPage
        from .faq import FAQIndexPage
        from .opendays import OpenDayIndexPage, OpenDaySlot

        context = super().get_context(request, *args, **kwargs)
        context["bulletins"] = (
            ProgressBulletinPage.objects.live().filter(public_q()).filter(project_id=self.project_id)
            .order_by("-issue_date", "-pk")[:3]
        )
        from django.utils import timezone

        context["slots"] = OpenDaySlot.upcoming(timezone.localdate()).filter(
            page__project_id=self.project_id
        )[:3]
        # One query for all three index pages the project page links to (plain pages: only
        # their title and URL are shown).
        site = Site.find_for_request(request)
        indexes = {}
        if site is not None:
            for page in site.root_page.get_children().live().type(
                ProgressBulletinIndexPage, OpenDayIndexPage, FAQIndexPage
            ):
                indexes[page.specific_class] = page
        context["bulletin_index"] = indexes.get(ProgressBulletinIndexPage)
        context["openday_index"] = indexes.get(OpenDayIndexPage)
        context["faq_index"] = indexes.get(FAQIndexPage)
        return context
