"""Settings for the page-throughput benchmark (bench/bench_pages.py): production, unchanged,
plus what the benchmark needs and nothing else.

* ROOT_URLCONF adds the hello-world baseline view in front of the portal's URLs
  (bench/pages_urls.py), so both go through the same middleware.
* STATIC_ROOT points at the benchmark's own collectstatic output under bench/work/ (production
  storage is WhiteNoise's manifest storage: templates need the manifest).

Everything else — DEBUG off, Redis cache and sessions, HTTPS redirect, HSTS, secure cookies,
WhiteNoise — is config.settings.production as deployed. The load client sends
``X-Forwarded-Proto: https`` as the reverse proxy does, so SECURE_SSL_REDIRECT stays on.
"""

import os
from pathlib import Path

from config.settings.production import *  # noqa: F401,F403

ROOT_URLCONF = "bench.pages_urls"
STATIC_ROOT = Path(
    os.environ.get("BENCH_PAGES_STATIC_ROOT")
    or Path(__file__).resolve().parent / "work" / "pages-static"
)
