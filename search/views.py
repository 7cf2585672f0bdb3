from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.template.response import TemplateResponse
from wagtail.models import Page


def search(request):
    query = request.GET.get("q", "").strip()[:100]
    results = Page.objects.live().public().specific().search(query) if query else Page.objects.none()
    paginator = Paginator(results, 10)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except (PageNotAnInteger, EmptyPage):
        page = paginator.page(1)
    return TemplateResponse(request, "search/search.html", {"search_query": query, "results": page})
