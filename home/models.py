from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page


class HomePage(Page):
    """The portal's front page. The owner-portal issue adds projects, bulletins and open days."""

    intro = RichTextField(_("简介"), blank=True)
    hotline = models.CharField(_("客服热线"), max_length=50, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("hotline")]
    max_count = 1

    class Meta:
        verbose_name = _("首页")
