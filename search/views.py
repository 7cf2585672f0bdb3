from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe

from home.pagecache import cacheable

from .results import GROUPS, PAGE_SIZE, PREVIEW_SIZE, portal_search
from .segment import MAX_QUERY_LENGTH, parse_query


@require_safe
@cacheable
def search(request):
    """The portal's search page (design notes in search/results.py). Any input answers 200:
    an empty query shows the form, a query of only punctuation or emoji finds nothing, a query
    longer than MAX_QUERY_LENGTH characters is cut with a notice."""
    query = parse_query(request.GET.get("q", ""))
    outcome = portal_search(query, request.GET.get("type", ""), request.GET.get("page"))
    return TemplateResponse(
        request,
        "search/search.html",
        {
            "search": outcome,
            "search_query": query.text,
            "groups": GROUPS,
            "max_query_length": MAX_QUERY_LENGTH,
            "page_size": PAGE_SIZE,
            "preview_size": PREVIEW_SIZE,
        },
    )
