"""URLs of the page-throughput benchmark: a hello-world view, then the portal's own URLs.

The hello view is the baseline: a Django request through the full production middleware stack
(sessions, locale, CSRF, auth, history, messages, WhiteNoise, redirects...) with no template and
no query. The portal's pages are measured against it in the same run.
"""

from django.http import HttpResponse
from django.urls import include, path

HELLO_PATH = "bench-hello/"


def hello(request):
    return HttpResponse("hello")


urlpatterns = [
    path(HELLO_PATH, hello, name="bench_hello"),
    path("", include("config.urls")),
]
