from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from plugins.registry import plugin_urlpatterns
from search import views as search_views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),  # the portal's language switch (set_language)
    path("search/", search_views.search, name="search"),
    path("", include("home.urls")),  # open-day registration and other portal views
    path("", include("forms.urls")),  # staff-only photo view of form submissions
    *plugin_urlpatterns(),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's page serving is last: it catches every remaining path.
urlpatterns.append(path("", include(wagtail_urls)))
