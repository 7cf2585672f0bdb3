"""Settings for the case desk's benchmarks (bench/bench_cases.py): production, unchanged, plus
what the benchmark needs and nothing else.

* ROOT_URLCONF adds the hello-world baseline view in front of the portal's URLs
  (bench/cases_urls.py), so both go through the same middleware.
* Static files: plain ``StaticFilesStorage`` instead of WhiteNoise's manifest storage, so the
  admin pages render without a collectstatic run first (the benchmark serves no static file;
  resolving a URL costs the same either way).
* ALLOWED_HOSTS gains ``testserver`` for the in-process Django test client.

Everything else — DEBUG off, Redis cache and sessions, HTTPS redirect, secure cookies, the
middleware — is config.settings.production as deployed. Requests carry
``X-Forwarded-Proto: https`` (gunicorn) or ``secure=True`` (test client), as behind the
TLS-terminating proxy.
"""

from config.settings.production import *  # noqa: F401,F403
from config.settings.production import ALLOWED_HOSTS, STORAGES

ROOT_URLCONF = "bench.cases_urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
