"""What every portal page shares: a share image for Open Graph and the project filter."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from estates.models import Project
from search.segment import autocomplete_text, index_text
from search.text import html_to_text, join_text


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

    # Foreign keys fetched with the page when HomePage.route finds it (its template uses them).
    route_select_related = ("share_image",)
    # Anonymous visitors may get this page from the page cache (home/pagecache.py).
    cache_anonymous = True

    # Chinese search (search/segment.py): the title and the text segmented by jieba plus CJK
    # bigrams; the title's substrings for the admin's page search, which matches prefixes only.
    search_fields = Page.search_fields + [
        index.SearchField("search_title", boost=2),
        index.SearchField("search_words"),
        index.AutocompleteField("search_title_autocomplete"),
    ]

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        response.page_cacheable = self.cache_anonymous
        return response

    def get_view_restrictions(self):
        """The view restrictions on this page and its ancestors in one query: ancestors' paths
        are prefixes of this page's path, so Wagtail's ancestor query is not needed. A
        restriction on the page an ancestor is an alias of applies too, as in Wagtail."""
        paths = [self.path[:end] for end in range(self.steplen, len(self.path) + 1, self.steplen)]
        return PageViewRestriction.objects.filter(
            Q(page__path__in=paths) | Q(page__aliases__path__in=paths)
        ).distinct()

    def search_text(self):
        """Plain text of the page (its title aside) for the index and the result snippet.
        Pages with more content extend it; this covers the promote tab's description and an
        ``intro`` or ``summary`` field."""
        parts = [self.search_description]
        for name in ("intro", "summary"):
            try:
                field = self._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            value = getattr(self, name)
            parts.append(html_to_text(value) if isinstance(field, RichTextField) else value)
        return join_text(*parts)

    def search_title(self):
        return index_text(self.title)

    def search_words(self):
        return index_text(self.title, self.search_text())

    def search_title_autocomplete(self):
        return autocomplete_text(self.title)

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


def public_q(path="path"):
    """Pages outside every private section (a view restriction on the page or an ancestor), as a
    subquery of the same statement; Wagtail's ``.public()`` runs a query of its own each call.
    ``path`` names the page path field from the queried model (e.g. ``page__path``)."""
    under_restriction = PageViewRestriction.objects.filter(
        page__path=Substr(OuterRef(path), 1, Length("page__path"))
    )
    return ~Exists(under_restriction)


def selected_project(request):
    """The project chosen with ?project=<code>, or None (unknown codes are ignored)."""
    code = (request.GET.get("project") or "").strip()[:32]
    if not code:
        return None
    return Project.objects.filter(code=code).first()


def project_filter(request):
    """The project filter every listing shows: the chosen project (or None) and the choices,
    the projects that have a live page."""
    return {
        "selected_project": selected_project(request),
        "projects": Project.objects.filter(page__live=True).order_by("code"),
    }


def paginate(request, queryset, per_page):
    from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

    paginator = Paginator(queryset, per_page)
    try:
        return paginator.page(request.GET.get("page", 1))
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)
