"""Short links behind the QR codes (ARCHITECTURE.md decision 15): issuing, resolving and
revoking the ``/q/<token>`` of a unit or a building, and the absolute URL a code carries.

A link is created on first need (``link_for``, ``links_for``) and stays the same until it is
revoked, so a printed poster keeps working however the portal's pages are renamed or moved.
Revoking (a lost or defaced poster) retires the token for good: it answers 404 from then on,
and the next ``link_for`` issues a new one.
"""

import re
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .models import Building, ShortLink, Unit

TOKEN_RE = re.compile(rf"^[{ShortLink.TOKEN_ALPHABET}]{{{ShortLink.TOKEN_LENGTH}}}$")
#: Rounds of inserting fresh tokens before giving up. A round only repeats for a token that
#: collided with an existing one: about one chance in 10^13 per token at 100,000 links.
MAX_ROUNDS = 5
TARGET_FIELDS = {Unit: "unit", Building: "building"}


def new_token():
    alphabet = ShortLink.TOKEN_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(ShortLink.TOKEN_LENGTH))


def _target_field(targets):
    models = {type(target) for target in targets}
    if len(models) != 1 or next(iter(models)) not in TARGET_FIELDS:
        raise TypeError("Short links are for units or buildings, one model per call")
    return TARGET_FIELDS[models.pop()]


def _current(field, pks):
    return ShortLink.objects.filter(revoked_at__isnull=True, **{f"{field}_id__in": pks})


def links_for(targets):
    """``{pk: current ShortLink}`` for the given units, or the given buildings, creating the
    missing links in bulk. A fixed number of queries whatever the number of targets: one when
    every link exists, three when some are missing (read, one INSERT that skips conflicts, read
    the new rows). When a concurrent request created a link first, its link is the one
    returned. Each link gets its target object attached, so reading it costs no query."""
    targets = list(targets)
    if not targets:
        return {}
    field = _target_field(targets)
    by_pk = {target.pk: target for target in targets}
    found = {getattr(link, f"{field}_id"): link for link in _current(field, list(by_pk))}
    missing = [pk for pk in by_pk if pk not in found]
    for _round in range(MAX_ROUNDS):
        if not missing:
            break
        ShortLink.objects.bulk_create(
            [ShortLink(token=new_token(), **{f"{field}_id": pk}) for pk in missing], ignore_conflicts=True
        )
        found.update({getattr(link, f"{field}_id"): link for link in _current(field, missing)})
        missing = [pk for pk in missing if pk not in found]
    if missing:
        raise RuntimeError(f"Could not issue short links for {field} ids {missing[:5]}")
    for pk, link in found.items():
        setattr(link, field, by_pk[pk])
    return found


def link_for(target):
    """The current ShortLink of a Unit or a Building, created on first need."""
    return links_for([target])[target.pk]


def revoke(target):
    """Retire the current link of a Unit or a Building (its poster was lost): the token answers
    404 from now on and the next ``link_for`` issues a new one. Returns the number retired."""
    field = _target_field([target])
    return _current(field, [target.pk]).update(revoked_at=timezone.now())


def current_link(token):
    """The current link for ``token`` with its unit or building and that one's project, or
    None for a malformed, unknown or revoked token. At most one query (none for garbage)."""
    token = str(token or "").strip().lower()
    if not TOKEN_RE.match(token):
        return None
    return (
        ShortLink.objects.select_related("unit__project", "unit__building", "building__project")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )


def unit_for_token(token):
    """Hook for ``forms.models.RESOLVE_UNIT_HOOK``: the unit of a current unit link, or None."""
    link = current_link(token)
    return link.unit if link is not None and link.unit_id else None


def building_for_token(token):
    """Hook for ``forms.models.RESOLVE_BUILDING_HOOK``: the building of a current building link."""
    link = current_link(token)
    return link.building if link is not None and link.building_id else None


def short_path(link):
    return reverse("short_link", args=[link.token])


def short_url(link):
    """The absolute URL a QR code carries.

    Built on ``settings.WAGTAILADMIN_BASE_URL``, the one public base address the project already
    configures per deployment (notification links use it too). Not the request's host: a sheet
    printed from an intranet admin address or a laptop's ``127.0.0.1`` would put an address
    owners cannot reach on a poster that hangs for years. Not the Wagtail Site record either:
    it ships as ``localhost`` and nothing else in the project depends on it being right.
    """
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + short_path(link)
