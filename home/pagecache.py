"""The anonymous page cache: whole portal pages, as rendered for a visitor without a session,
kept in the shared cache (Redis) and served without touching the database.

Owners read far more than editors write, and one Wagtail page costs 5–9 queries and a template
render, so a busy morning of "how far along is my building?" would otherwise load the database
for the same few pages. Rules, in order:

* Only GET requests from visitors without a session cookie (editors, staff and anyone who has
  logged in always get a fresh page) for views that opted in: portal pages (``PortalPage``
  with ``cache_anonymous``) and the search page (``@cacheable``).
* Only 200 responses that set no cookie: a page that used the CSRF token, the session or
  messages sets one, so forms are never cached.
* The key holds the site, scheme, URL with its query string and language; the entry holds the
  *generation* it was stored under. Anything that can change what a portal page shows bumps
  the generation (``purge``), which invalidates every stored page at once; ``PAGE_CACHE_SECONDS`` bounds the age of a page whose data
  changed without a signal (e.g. "upcoming" open days turning past at midnight).
"""

import functools
import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"
HEADER = "X-Page-Cache"


def timeout():
    return getattr(settings, "PAGE_CACHE_SECONDS", 0)


def cacheable(view):
    """Mark a function view's anonymous GET responses as cacheable."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.page_cacheable = True
        return response

    return wrapped


def generation():
    value = cache.get(GENERATION_KEY)
    if value is None:
        # add() so that two workers starting together agree on one value.
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return value


def purge(**kwargs):
    """Orphan every stored page, once the current transaction commits: a request that renders
    before the commit reads the old generation, so what it stores is orphaned too."""
    transaction.on_commit(bump_generation)


def bump_generation():
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing has been stored under one
        cache.add(GENERATION_KEY, 1, timeout=None)
    except Exception:  # a cache outage must not fail the editor's save; the TTL bounds staleness
        logger.exception("page cache purge failed")


def key_for(request):
    raw = "|".join((
        request.scheme,
        request.get_host(),
        request.get_full_path(),
        getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
    ))
    digest = hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()
    return f"pagecache:page:{digest}"


def eligible(request):
    return (
        request.method == "GET"
        and timeout() > 0
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def storable(request, response):
    cache_control = response.get("Cache-Control", "")
    session = getattr(request, "session", None)
    return (
        getattr(response, "page_cacheable", False)
        and not (session is not None and session.modified)  # its cookie is set after us
        and response.status_code == 200
        and not response.cookies
        and "private" not in cache_control
        and "no-store" not in cache_control
        and not getattr(response, "streaming", False)
    )


class PageCacheMiddleware:
    """Place after LocaleMiddleware (the key needs the language) and before the middleware that
    sets cookies (CSRF, sessions, messages), so that their cookies are seen here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not eligible(request):
            return self.get_response(request)
        # One round trip: the current generation and the stored entry, which carries the
        # generation it was stored under; an entry from before a purge counts as missing.
        key = key_for(request)
        found = cache.get_many([GENERATION_KEY, key])
        current = found.get(GENERATION_KEY)
        if current is None:
            current = generation()
        entry = found.get(key)
        if entry is not None and entry[0] == current:
            response = entry[1]
            response[HEADER] = "hit"
            return response
        response = self.get_response(request)
        if storable(request, response):
            response[HEADER] = "miss"
            cache.set(key, (current, response), timeout())
        return response


# --- What purges ---------------------------------------------------------------------------------
# Models whose rows a portal page shows (beside pages themselves): a save or delete of any of
# them purges. Draft saves purge too; that only costs a re-render.
PURGING_MODELS = {
    ("home", None),  # every home model: pages, FAQs, adverse factors, slots, registrations
    ("wagtailcore", "page"),
    ("wagtailcore", "pageviewrestriction"),
    ("wagtailcore", "site"),
    ("wagtailimages", "image"),
    ("wagtailredirects", "redirect"),
    ("estates", "project"),
    ("estates", "building"),
}


def purges(sender):
    from wagtail.models import Page

    meta = sender._meta
    return (
        (meta.app_label, None) in PURGING_MODELS
        or (meta.app_label, meta.model_name) in PURGING_MODELS
        or issubclass(sender, Page)
    )


def purge_on_change(sender, **kwargs):
    if purges(sender):
        purge()


def connect():
    from wagtail.signals import page_published, page_unpublished, post_page_move

    post_save.connect(purge_on_change, dispatch_uid="pagecache-save")
    post_delete.connect(purge_on_change, dispatch_uid="pagecache-delete")
    # Publishing writes the page row too, but these say it in so many words.
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(purge, dispatch_uid=f"pagecache-{id(signal)}")
