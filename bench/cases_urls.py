"""URLs of the case desk's benchmarks: a hello-world view, then the portal's own URLs.

The hello view is the baseline of the HTTP and in-process measurements: a request through the
full production middleware stack (sessions, CSRF, auth, history, messages, …) that runs no
query of its own and renders no template. It answers GET and POST (CSRF-checked like any form).
"""

from django.http import HttpResponse
from django.urls import include, path

HELLO_PATH = "bench-cases-hello/"


def hello(request):
    return HttpResponse("hello")


urlpatterns = [
    path(HELLO_PATH, hello, name="bench_cases_hello"),
    path("", include("config.urls")),
]
