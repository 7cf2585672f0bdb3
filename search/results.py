"""The portal search: one query over bulletins, open days, FAQs and other pages, grouped by type.

Design (the owner is on a phone):

* What is searched: live pages outside private sections (``Page.objects.live().public()``,
  the privacy test done once) and live FAQs; each word of the query is required
  (``search.segment.parse_query``).
* Groups in a fixed order: 工程进展, 开放日, 常见问题, 页面. Without ``type=`` each group shows its
  best ``PREVIEW_SIZE`` results and links to its own listing (``type=faq``...), which is
  paginated ``PAGE_SIZE`` a page (``page=``). Counts for every group are shown in both views.
* A constant number of queries, whatever the number of hits: one search over pages and one over
  FAQs return up to ``MAX_HITS`` ranked ids each (counts come from these lists; "1000+" when a
  list is full), then only the results on screen are loaded — pages in one query with every page
  type joined, FAQs in one query with their position on the FAQ index page — plus the privacy
  test and the FAQ index page: 6 queries, 9 on cold caches (content types, site roots).
* Snippets and titles are plain text, HTML-escaped, with the query's words in <mark>.
"""

import functools
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page
from wagtail.search.backends import get_search_backend

from home.models import FAQ, FAQIndexPage, OpenDayPage, ProgressBulletinPage

from .text import highlight

PREVIEW_SIZE = 5
PAGE_SIZE = 10
MAX_HITS = 1000
SNIPPET_LENGTH = 100
# FAQIndexPage.get_context shows 20 FAQs a page, ordered by category, sort order and pk; a FAQ
# result links to the page of the index that shows it (tests/search checks the anchor is there).
FAQ_INDEX_PAGE_SIZE = 20

GROUPS = (
    ("bulletin", _("工程进展")),
    ("openday", _("开放日")),
    ("faq", _("常见问题")),
    ("page", _("页面")),
)
GROUP_KEYS = tuple(key for key, _label in GROUPS)


@dataclass
class Result:
    title: str  # HTML-safe, query words marked
    url: str | None
    snippet: str  # HTML-safe, query words marked
    meta: list = field(default_factory=list)


@dataclass
class Group:
    key: str
    label: str
    ids: list = field(default_factory=list)  # ranked, best first
    capped: bool = False
    results: list = field(default_factory=list)
    page: object = None  # django.core.paginator.Page when this group is listed on its own
    shown: list = field(default_factory=list)  # ids on screen
    url: str = ""  # this group's own listing

    @property
    def count(self):
        return len(self.ids)

    @property
    def has_more(self):
        return self.count > len(self.results)


@dataclass
class Outcome:
    query: object  # search.segment.ParsedQuery
    selected: str = ""
    groups: list = field(default_factory=list)
    searched: bool = False

    @property
    def total(self):
        return sum(group.count for group in self.groups)

    @property
    def capped(self):
        return any(group.capped for group in self.groups)

    @property
    def all_query(self):
        return urlencode({"q": self.query.text})

    @property
    def shown_groups(self):
        return [g for g in self.groups if g.count and (not self.selected or g.key == self.selected)]


@functools.cache
def _specific_paths(model=Page, prefix=""):
    """select_related() paths from Page to every concrete page type, e.g. "standardpage"."""
    paths = {}
    for rel in model._meta.related_objects:
        if rel.one_to_one and rel.parent_link and rel.model is model:
            path = prefix + rel.get_accessor_name()
            paths[rel.related_model] = path
            paths.update(_specific_paths(rel.related_model, path + "__"))
    return paths


def _specific(page, paths):
    """The most specific object joined onto ``page`` by select_related (no query)."""
    best = page
    for path in paths:
        obj = page
        try:
            for attr in path.split("__"):
                obj = getattr(obj, attr)
        except ObjectDoesNotExist:
            continue
        if isinstance(obj, type(best)):
            best = obj
    return best


def _ranked(results):
    """Up to MAX_HITS results, best first, in one query; and whether there were more."""
    hits = list(results[: MAX_HITS + 1])
    return hits[:MAX_HITS], len(hits) > MAX_HITS


def _date(value):
    return date_format(value, "DATE_FORMAT") if value else ""


def portal_search(query, selected="", page_number=None):
    outcome = Outcome(query=query, selected=selected if selected in GROUP_KEYS else "")
    groups = {key: Group(key, label) for key, label in GROUPS}
    outcome.groups = list(groups.values())
    search_query = query.search_query()
    if search_query is None:
        return outcome
    outcome.searched = True
    for group in outcome.groups:
        group.url = "?" + urlencode({"q": query.text, "type": group.key})

    # 1. Ranked ids: one query for pages, one for FAQs.
    backend = get_search_backend()
    private = Page.objects.all().private_q()
    page_hits, page_capped = _ranked(
        backend.search(search_query, Page.objects.live().exclude(private).only("id", "content_type_id"))
    )
    cts = ContentType.objects.get_for_models(ProgressBulletinPage, OpenDayPage)  # cached
    kind_by_ct = {cts[ProgressBulletinPage].pk: "bulletin", cts[OpenDayPage].pk: "openday"}
    for page in page_hits:
        groups[kind_by_ct.get(page.content_type_id, "page")].ids.append(page.pk)
    for group in (groups["bulletin"], groups["openday"], groups["page"]):
        group.capped = page_capped
    faq_hits, groups["faq"].capped = _ranked(backend.search(search_query, FAQ.objects.filter(live=True).only("id")))
    groups["faq"].ids = [faq.pk for faq in faq_hits]

    # 2. Which ids are on screen.
    for group in outcome.groups:
        if outcome.selected:
            if group.key == outcome.selected:
                group.page = Paginator(group.ids, PAGE_SIZE).get_page(page_number)
                group.shown = list(group.page.object_list)
            else:
                group.shown = []
        else:
            group.shown = group.ids[:PREVIEW_SIZE]

    terms = query.highlight_terms()

    # 3. Pages on screen, every type joined in one query.
    shown_page_ids = [pk for key in ("bulletin", "openday", "page") for pk in groups[key].shown]
    if shown_page_ids:
        paths = _specific_paths()
        loaded = {
            page.pk: _specific(page, paths.values())
            for page in Page.objects.filter(pk__in=shown_page_ids).select_related(
                *paths.values(), "progressbulletinpage__project", "opendaypage__project"
            )
        }
        for key in ("bulletin", "openday", "page"):
            groups[key].results = [
                _page_result(loaded[pk], terms) for pk in groups[key].shown if pk in loaded
            ]

    # 4. FAQs on screen, with their position on the FAQ index page.
    if groups["faq"].shown:
        before = (
            FAQ.objects.filter(live=True, category=OuterRef("category"))
            .filter(
                Q(sort_order__lt=OuterRef("sort_order"))
                | Q(sort_order=OuterRef("sort_order"), pk__lt=OuterRef("pk"))
            )
            .order_by()
            .values("category")
            .annotate(n=Count("pk"))
            .values("n")
        )
        faqs = FAQ.objects.filter(pk__in=groups["faq"].shown).annotate(position=Coalesce(Subquery(before), 0))
        faqs = {faq.pk: faq for faq in faqs}
        index_page = FAQIndexPage.objects.live().exclude(private).order_by("path").first()
        index_url = index_page.get_url() if index_page else None
        groups["faq"].results = [
            _faq_result(faqs[pk], index_url, terms) for pk in groups["faq"].shown if pk in faqs
        ]
    return outcome


def _page_result(page, terms):
    meta = []
    if isinstance(page, ProgressBulletinPage):
        meta = [page.project.name, _date(page.issue_date), page.get_stage_display()]
    elif isinstance(page, OpenDayPage):
        meta = [page.project.name, page.get_kind_display()]
        if page.first_date:
            meta.append(_("%(date)s 起") % {"date": _date(page.first_date)})
    else:
        meta = [str(page._meta.verbose_name)]
    text = page.search_text() if hasattr(page, "search_text") else page.search_description
    return Result(
        title=highlight(page.title, terms, length=None),
        url=page.get_url(),  # relative on a single site; Wagtail caches the site roots
        snippet=highlight(text, terms, length=SNIPPET_LENGTH),
        meta=[m for m in meta if m],
    )


def _faq_result(faq, index_url, terms):
    url = None
    if index_url:
        params = {"category": faq.category}
        page = faq.position // FAQ_INDEX_PAGE_SIZE + 1
        if page > 1:
            params["page"] = page
        url = f"{index_url}?{urlencode(params)}#faq-{faq.pk}"
    return Result(
        title=highlight(faq.question, terms, length=None),
        url=url,
        snippet=highlight(faq.search_text(), terms, length=SNIPPET_LENGTH),
        meta=[faq.get_category_display()],
    )
