from django.conf import settings
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from estates import links_views
from plugins.registry import plugin_urlpatterns
from search import views as search_views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # The portal's language switch. Without CSRF: choosing the display language is no state
    # worth defending, and a token on every page would keep pages out of the page cache.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("search/", search_views.search, name="search"),
    re_path(r"^q/(?P<token>.+?)/?$", links_views.follow, name="short_link"),  # QR codes (decision 15)
    path("", include("home.urls")),  # open-day registration and other portal views
    path("", include("owners.urls")),  # owner sign-in and 我的家
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
