import functools

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, get_page_models

from search.text import join_text, stream_text

from ..blocks import BodyBlock
from .base import PortalPage, public_q


class HomePage(PortalPage):
    """The portal's front page: projects, latest bulletins, next open days, the hotline."""

    intro = RichTextField(_("简介"), blank=True)
    hotline = models.CharField(_("客服热线"), max_length=50, blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro"), FieldPanel("hotline")]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("首页")

    def route(self, request, path_components):
        """Find a descendant by its URL path in one query, then load it as its specific type with
        the foreign keys its template shows, instead of Wagtail's two queries per level. Falls
        back to Wagtail's walk when no page has that URL path (e.g. a routable page's sub-URL)
        or when some page type routes its children itself."""
        if not path_components or custom_routing():
            return super().route(request, path_components)
        levels = len(path_components)
        steps = self.steplen * levels
        found = (
            Page.objects.filter(
                depth=self.depth + levels,
                path__range=(self.path + "0" * steps, self.path + "Z" * steps),
                url_path=self.url_path + "/".join(path_components) + "/",
            )
            .values_list("pk", "content_type_id")
            .first()
        )
        if found is None:
            return super().route(request, path_components)
        pk, content_type_id = found
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:  # a page type whose code is gone
            raise Http404
        related = getattr(model, "route_select_related", ())
        page = model.objects.select_related(*related).get(pk=pk)
        return page.route(request, [])

    def get_context(self, request, *args, **kwargs):
        from .bulletins import ProgressBulletinPage
        from .opendays import OpenDaySlot
        from .projects import ProjectPage

        context = super().get_context(request, *args, **kwargs)
        context["projects"] = (
            ProjectPage.objects.live().filter(public_q()).select_related("project", "hero_image")
            .prefetch_related("hero_image__renditions").order_by("path")
        )
        context["bulletins"] = (
            ProgressBulletinPage.objects.live().filter(public_q()).select_related("project")
            .order_by("-issue_date", "-pk")[:5]
        )
        context["slots"] = OpenDaySlot.upcoming(timezone.localdate())[:5]
        return context


@functools.cache
def custom_routing():
    """Whether any page type below the home page overrides ``route`` (a RoutablePageMixin page,
    say): then a URL path may name something other than a page, and HomePage walks the tree."""
    return any(
        model.route is not Page.route
        for model in get_page_models()
        if not issubclass(model, HomePage)
    )


class StandardPage(PortalPage):
    """A plain page: service guides, notices, about us."""

    intro = models.CharField(_("导语"), max_length=250, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    class Meta:
        verbose_name = _("普通页面")

    def search_text(self):
        return join_text(super().search_text(), stream_text(self.body))
