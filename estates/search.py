"""Staff look-ups over the registry by what people say on the phone: a unit label, a name or a
mobile number. Indexed exact/prefix matches; substring only on short columns.

``SEARCHERS`` maps a model to its searcher; the admin lists and the snippet choosers of the
scoped estates viewsets use it, so every scoped model has one.
"""

import re

from django.db.models import Exists, OuterRef, Q

from .models import Building, Contractor, Owner, Ownership, Project, Unit
from .normalize import clean_text

#: What a typed number looks like: digits with spaces, dashes, brackets or a leading +.
DIGITS_RE = re.compile(r"^[\d\s+\-()]{4,}$")
SEPARATORS_RE = re.compile(r"[\s\-()]")
#: A unit search treats digits as a mobile only from this many on: "1502" is a room number.
UNIT_MOBILE_MIN_DIGITS = 7
#: An owner search treats digits as the start of a mobile from this many on.
OWNER_MOBILE_MIN_DIGITS = 4


def mobile_fragment(text, separators=SEPARATORS_RE):
    """The digits of a (possibly partial) mobile as stored: country code and separators removed.
    "" when ``text`` is not digits."""
    digits = separators.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if digits.isdigit() else ""


def _mobile_q(text, min_digits, prefix=""):
    """A prefix match on the mobile column, or None when ``text`` is no mobile."""
    if not DIGITS_RE.match(text):
        return None
    fragment = mobile_fragment(text)
    if len(fragment) < min_digits or not fragment.startswith("1"):
        return None
    return Q(**{f"{prefix}mobile__startswith": fragment})


def _label_text(text):
    """Unit labels are stored without spaces ("3-1-1502")."""
    return re.sub(r"\s+", "", text)


def search_owners(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    units = Ownership.objects.filter(
        owner=OuterRef("pk"), unit__label__istartswith=_label_text(text)
    )
    condition = Exists(units)
    mobile = _mobile_q(text, OWNER_MOBILE_MIN_DIGITS)
    if mobile is not None:
        # "3-1-1502" and "139-0000-0001" look alike: try both, each is an indexed prefix.
        return queryset.filter(mobile | condition)
    return queryset.filter(Q(name__icontains=text) | condition)


def search_units(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    label = _label_text(text)
    condition = Q(label__istartswith=label) | Q(number=text)
    owners = Owner.objects.filter(ownerships__unit=OuterRef("pk"))
    mobile = _mobile_q(text, UNIT_MOBILE_MIN_DIGITS)
    if mobile is not None:
        condition |= Exists(owners.filter(mobile))
    elif not DIGITS_RE.match(text):
        condition |= Exists(owners.filter(name__icontains=text))
    return queryset.filter(condition)


def search_ownerships(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    condition = (
        Q(unit__label__istartswith=_label_text(text))
        | Q(unit__number=text)
        | Q(owner__name__icontains=text)
    )
    mobile = _mobile_q(text, OWNER_MOBILE_MIN_DIGITS, prefix="owner__")
    if mobile is not None:
        condition |= mobile
    return queryset.filter(condition)


def search_projects(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    return queryset.filter(
        Q(code__istartswith=text) | Q(name__icontains=text) | Q(city__icontains=text)
    )


def search_buildings(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    return queryset.filter(
        Q(code=text) | Q(name__icontains=text) | Q(project__name__icontains=text)
    )


def search_contractors(queryset, query):
    text = clean_text(query)
    if not text:
        return queryset
    condition = Q(name__icontains=text) | Q(contact_name__icontains=text)
    mobile = _mobile_q(text, OWNER_MOBILE_MIN_DIGITS, prefix="contact_")
    if mobile is not None:
        condition |= mobile
    return queryset.filter(condition)


SEARCHERS = {
    Unit: search_units,
    Owner: search_owners,
    Ownership: search_ownerships,
    Project: search_projects,
    Building: search_buildings,
    Contractor: search_contractors,
}
