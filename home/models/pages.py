from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField

from search.text import join_text, stream_text

from ..blocks import BodyBlock
from .base import PortalPage


class HomePage(PortalPage):
    """The portal's front page: projects, latest bulletins, next open days, the hotline."""

    intro = RichTextField(_("简介"), blank=True)
    hotline = models.CharField(_("客服热线"), max_length=50, blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro"), FieldPanel("hotline")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("首页")

    def get_context(self, request, *args, **kwargs):
        from .bulletins import ProgressBulletinPage
        from .opendays import OpenDaySlot
        from .projects import ProjectPage

        context = super().get_context(request, *args, **kwargs)
        context["projects"] = (
            ProjectPage.objects.live().public().select_related("project", "hero_image")
            .prefetch_related("hero_image__renditions").order_by("path")
        )
        context["bulletins"] = (
            ProgressBulletinPage.objects.live().public().select_related("project")
            .order_by("-issue_date", "-pk")[:5]
        )
        context["slots"] = OpenDaySlot.upcoming(timezone.localdate())[:5]
        return context


class StandardPage(PortalPage):
    """A plain page: service guides, notices, about us."""

    intro = models.CharField(_("导语"), max_length=250, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    class Meta:
        verbose_name = _("普通页面")

    def search_text(self):
        return join_text(super().search_text(), stream_text(self.body))
