from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    RevisionMixin,
    WorkflowMixin,
)
from wagtail.search import index

from estates.models import Project
from search.segment import autocomplete_text, index_text
from search.text import html_to_text

from .base import PortalPage, paginate, project_filter


class FAQCategory(models.TextChoices):
    PURCHASE = "purchase", _("购房与合同")
    LOANS = "loans", _("按揭贷款")
    HANDOVER = "handover", _("交房验房")
    DECORATION = "decoration", _("装修")
    REPAIRS = "repairs", _("报修与保修")
    PROPERTY_FEES = "property_fees", _("物业费用")
    CERTIFICATES = "certificates", _("产权办证")
    COMMUNITY = "community", _("社区配套")


class FAQ(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, index.Indexed, models.Model):
    """统一说辞: an approved answer, reused on many pages; goes live only through the review."""

    question = models.CharField(_("问题"), max_length=200)
    answer = RichTextField(_("回答"), features=["bold", "ol", "ul", "link"])
    category = models.CharField(_("分类"), max_length=20, choices=FAQCategory.choices, db_index=True)
    projects = models.ManyToManyField(
        Project, blank=True, related_name="faqs", verbose_name=_("适用项目"),
        help_text=_("不选表示适用于全部项目"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=100)

    panels = [
        FieldPanel("question"),
        FieldPanel("answer"),
        FieldPanel("category"),
        FieldPanel("projects"),
        FieldPanel("sort_order"),
    ]
    # Chinese search (search/segment.py). Every FAQ is indexed with its database row (a new
    # draft's text; for a live FAQ its published text, later edits waiting as revisions); the
    # portal searches live ones only (FilterField "live").
    search_fields = [
        index.SearchField("search_title", boost=2),
        index.SearchField("search_words"),
        index.AutocompleteField("question"),
        index.AutocompleteField("search_title_autocomplete"),
        index.FilterField("live"),
        index.FilterField("category"),
    ]

    class Meta:
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")
        ordering = ["category", "sort_order", "pk"]

    def __str__(self):
        return self.question

    def search_text(self):
        """The answer as plain text, for the index and the result snippet."""
        return html_to_text(self.answer)

    def search_title(self):
        return index_text(self.question)

    def search_words(self):
        with translation.override(settings.LANGUAGE_CODE):
            category = self.get_category_display()
        return index_text(self.question, self.search_text(), category)

    def search_title_autocomplete(self):
        return autocomplete_text(self.question)


class FAQIndexPage(PortalPage):
    intro = models.CharField(_("导语"), max_length=250, blank=True)

    content_panels = PortalPage.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = _("常见问题列表")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        category = request.GET.get("category", "")
        if category not in FAQCategory.values:
            category = ""
        context.update(project_filter(request))
        project = context["selected_project"]
        faqs = FAQ.objects.filter(live=True).order_by("category", "sort_order", "pk")
        if category:
            faqs = faqs.filter(category=category)
        if project:
            faqs = faqs.filter(models.Q(projects=project) | models.Q(projects__isnull=True)).distinct()
        context.update(
            categories=FAQCategory.choices,
            selected_category=category,
            faqs=paginate(request, faqs, 20),
        )
        return context
