"""What every portal page shares: a share image for Open Graph and the project filter."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.models import Page

from estates.models import Project


class PortalPage(Page):
    """Abstract base: a share image (Open Graph) on the promote tab."""

    share_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("分享图片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("在微信等应用中分享时显示的图片"),
    )

    promote_panels = Page.promote_panels + [FieldPanel("share_image")]

    class Meta:
        abstract = True

    def meta_description(self):
        """For the description and Open Graph tags: the promote tab's text, else a summary."""
        from django.utils.html import strip_tags
        from django.utils.text import Truncator

        text = self.search_description or getattr(self, "summary", "") or getattr(self, "intro", "")
        return Truncator(strip_tags(str(text))).chars(120)

    def meta_image(self):
        for name in ("share_image", "cover_image", "hero_image"):
            image = getattr(self, name, None)
            if image is not None:
                return image
        return None


def selected_project(request):
    """The project chosen with ?project=<code>, or None (unknown codes are ignored)."""
    code = (request.GET.get("project") or "").strip()[:32]
    if not code:
        return None
    return Project.objects.filter(code=code).first()


def paginate(request, queryset, per_page):
    from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

    paginator = Paginator(queryset, per_page)
    try:
        return paginator.page(request.GET.get("page", 1))
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)
