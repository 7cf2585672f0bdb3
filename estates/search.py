"""Staff look-ups over the registry by what people say on the phone: a unit label, a name or a
mobile number. Indexed exact/prefix matches; substring only on short columns."""

import re

from django.db.models import Exists, OuterRef, Q

from .models import Owner, Ownership, Unit
from .normalize import clean_text

DIGITS_RE = re.compile(r"^[\d\s+\-]{4,}$")


def _mobile_fragment(text):
    digits = re.sub(r"[\s\-+]", "", text)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def search_owners(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    if DIGITS_RE.match(text):
        return queryset.filter(mobile__startswith=_mobile_fragment(text))
    units = Ownership.objects.filter(owner=OuterRef("pk"), unit__label__istartswith=text)
    return queryset.filter(Q(name__icontains=text) | Exists(units))


def search_units(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    owners = Owner.objects.filter(ownerships__unit=OuterRef("pk"))
    if DIGITS_RE.match(text) and len(_mobile_fragment(text)) >= 7:
        owners = owners.filter(mobile__startswith=_mobile_fragment(text))
        return queryset.filter(Exists(owners))
    owners = owners.filter(name__icontains=text)
    return queryset.filter(
        Q(label__istartswith=text) | Q(number=text) | Exists(owners)
    )


SEARCHERS = {Unit: search_units, Owner: search_owners}
