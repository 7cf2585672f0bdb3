"""Admin screens of the portal's snippets."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import FAQ, AdverseFactor


class FAQViewSet(SnippetViewSet):
    model = FAQ
    icon = "help"
    menu_label = _("常见问题")
    list_display = ["question", "category", "sort_order", "live"]
    list_filter = ["category", "live"]
    list_export = ["question", "category", "sort_order", "live"]
    search_fields = ["question"]
    search_backend_name = None  # ORM icontains: Chinese substrings match in the admin
    ordering = ["category", "sort_order"]


class AdverseFactorViewSet(SnippetViewSet):
    model = AdverseFactor
    icon = "warning"
    menu_label = _("不利因素公示")
    list_display = ["title", "project", "category", "inside_boundary", "distance_m", "live"]
    list_filter = ["project", "category", "inside_boundary", "live"]
    list_export = ["project", "category", "title", "inside_boundary", "distance_m", "direction", "description", "live"]
    search_fields = ["title", "description"]
    search_backend_name = None

    def get_queryset(self, request):
        return AdverseFactor.objects.select_related("project")


class PortalContentGroup(SnippetViewSetGroup):
    items = (FAQViewSet, AdverseFactorViewSet)
    menu_icon = "doc-full"
    menu_label = _("门户内容")
    menu_name = "portal_content"
    menu_order = 150
