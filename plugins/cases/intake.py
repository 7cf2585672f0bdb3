"""来电登记: what a call-centre agent needs to know about a caller, from one thing typed.

``lookup(user, text, unit_id=None, category=None)`` reads what was typed — a mobile in any
common form (+86, spaces, dashes), an owner's name, or a unit label (3-2-1502) — and returns the
matching owners of the user's projects (estates.scope) with their current units, and for those
units (and for the number itself) every open case and the cases of the last ``RECENT_DAYS``
days. Every lookup is an indexed equality or prefix match (never ``LIKE '%…%'``): owners by
mobile (exact, or a prefix of at least ``MOBILE_PREFIX_MIN`` digits) or by name (prefix), units by
label (prefix), cases by unit and by reporter mobile. The number of queries does not grow with
the owners, units or cases found: each list is one query, each capped.

Nothing here changes a case: "add this call to it" is ``services.add_note`` (intake_views.py).
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connections
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext

from estates import scope
from estates.models import Owner, Ownership, Unit
from estates.normalize import MOBILE_RE, clean_text
from estates.search import mobile_fragment

from .models import Case
from .models.choices import OPEN_STATUSES

#: Cases registered within this many days are shown even when closed.
RECENT_DAYS = 90
#: Caps: each list reads at most this many rows (plus one, to say "more").
MAX_OWNERS = 20
MAX_UNITS = 30
MAX_CASES = 100
#: A partial mobile needs this many digits; fewer would match a large part of the table.
MOBILE_PREFIX_MIN = 7
#: The longest text worth looking up (a name or label is far shorter).
MAX_QUERY = 50

#: Typed digits: a mobile with spaces, dashes, brackets, +86.
DIGITS_RE = re.compile(r"^[\d\s+\-()（）]+$")
SEPARATORS_RE = re.compile(r"[\s\-()（）]")
#: A unit label: groups of letters/digits joined by dashes ("3-2-1502", "A-1-101").
LABEL_RE = re.compile(r"^[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+$")
#: A name: Chinese characters, letters, the middle dot and spaces.
NAME_RE = re.compile(r"^[\u3400-\u9fffA-Za-z·•.\s]+$")


@dataclass
class Result:
    """What a lookup found, or why it could not look (``error``, a Chinese message)."""

    text: str = ""
    kind: str = ""  # "mobile", "mobile_prefix", "name", "unit" — what the text was read as
    mobile: str = ""  # the normalised number (exact or prefix)
    error: str = ""
    invalid: bool = False  # the text could not be read at all (a 400)
    notice: str = ""
    owners: list = field(default_factory=list)  # [{"owner": Owner, "units": [Unit]}]
    units: list = field(default_factory=list)  # the units the cases were read for
    cases: list = field(default_factory=list)  # [{"case": Case, "open": bool, "duplicate": bool}]
    more_owners: bool = False
    more_units: bool = False
    more_cases: bool = False
    unknown_number: bool = False
    picked_unit: object = None
    category: object = None

    @property
    def open_cases(self):
        return [row for row in self.cases if row["open"]]

    @property
    def duplicates(self):
        return [row for row in self.cases if row["duplicate"]]


def _mobile_digits(text):
    """The digits of a typed number with country code and separators (full-width brackets too)
    removed, or ""."""
    return mobile_fragment(text, SEPARATORS_RE)


def prefix_q(field_name, prefix, using="default"):
    """``field__startswith`` that an ordinary B-tree index serves on both databases: PostgreSQL
    answers ``LIKE 'x%'`` from the ``*_like`` pattern index Django adds to indexed text columns;
    SQLite's case-insensitive LIKE cannot use an index, so there the same prefix is also given as
    a range (byte order, which is SQLite's BINARY collation), which it can."""
    condition = Q(**{f"{field_name}__startswith": prefix})
    if connections[using].vendor == "sqlite" and prefix:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        condition &= Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": upper})
    return condition


def read(text):
    """(kind, value, error): what ``text`` is to be looked up as."""
    text = clean_text(text)
    if not text:
        return "", "", gettext("请输入来电号码、业主姓名或房号（如 3-2-1502）。")
    if len(text) > MAX_QUERY:
        return "", "", gettext("输入过长：请只输入一个手机号、业主姓名或房号。")
    if DIGITS_RE.match(text):
        digits = _mobile_digits(text)
        if len(digits) == 11:
            if not MOBILE_RE.match(digits):
                return "", "", gettext("“%(text)s”不是有效的手机号：应为 11 位中国大陆手机号，如 13800138000。") % {
                    "text": text}
            return "mobile", digits, ""
        if "-" in text and LABEL_RE.match(re.sub(r"\s+", "", text)):
            return "unit", re.sub(r"\s+", "", text), ""
        if digits.startswith("1") and MOBILE_PREFIX_MIN <= len(digits) < 11:
            return "mobile_prefix", digits, ""
        if len(digits) > 11:
            return "", "", gettext("“%(text)s”位数太多：手机号应为 11 位。") % {"text": text}
        return "", "", gettext(
            "“%(text)s”太短，无法查找：请输入 11 位手机号（或至少前 %(n)s 位），或完整房号如 3-2-1502。"
        ) % {"text": text, "n": MOBILE_PREFIX_MIN}
    compact = re.sub(r"\s+", "", text)
    if LABEL_RE.match(compact):
        return "unit", compact, ""
    if NAME_RE.match(text):
        return "name", re.sub(r"\s+", " ", text), ""
    return "", "", gettext(
        "无法识别“%(text)s”：请输入手机号（如 138 0013 8000）、业主姓名或房号（如 3-2-1502）。"
    ) % {"text": text}


def _current_ownerships(project_ids):
    ownerships = Ownership.objects.filter(end__isnull=True).select_related("unit__project").order_by("unit__label")
    if project_ids is not None:
        ownerships = ownerships.filter(unit__project_id__in=project_ids)
    return ownerships


def lookup(user, text, unit_id=None, category=None):
    """The owners, units and cases for what was typed, within ``user``'s projects."""
    kind, value, error = read(text)
    result = Result(text=clean_text(text), kind=kind, error=error, invalid=bool(error))
    if error:
        return result
    project_ids = scope.project_ids_for(user)
    using = Case.objects.db

    owners = Owner.objects.all()
    units = []
    if kind == "unit":
        units = Unit.objects.filter(prefix_q("label", value, using))
        if project_ids is not None:
            units = units.filter(project_id__in=project_ids)
        units = list(units.select_related("project").order_by("label", "pk")[: MAX_UNITS + 1])
        digits = _mobile_digits(result.text)
        if not units and digits.startswith("1") and MOBILE_PREFIX_MIN <= len(digits) < 11:
            # "139-0000-00" looks like a label too: no such unit, so the start of a mobile.
            kind = result.kind = "mobile_prefix"
            value = digits
    if kind in ("mobile", "mobile_prefix"):
        result.mobile = value
        owners = owners.filter(mobile=value) if kind == "mobile" else owners.filter(prefix_q("mobile", value, using))
    elif kind == "name":
        owners = owners.filter(prefix_q("name", value, using))
    else:  # unit: its current owners
        result.more_units = len(units) > MAX_UNITS
        result.units = units[:MAX_UNITS]
        if not result.units:
            result.error = gettext("没有找到房号“%(label)s”（或不在您负责的项目内）。请核对楼栋-单元-房号，如 3-2-1502。") % {
                "label": value}
            return result
        # IN (not EXISTS): read from the ownerships of these units (indexed by unit), never
        # owner by owner.
        owns = Ownership.objects.filter(unit__in=[unit.pk for unit in result.units], end__isnull=True)
        owners = owners.filter(pk__in=owns.values("owner_id"))

    owners = list(
        scope.restrict(owners, user)
        .prefetch_related(Prefetch("ownerships", queryset=_current_ownerships(project_ids),
                                   to_attr="current_ownerships"))
        .order_by("name", "pk")[: MAX_OWNERS + 1]
    )
    result.more_owners = len(owners) > MAX_OWNERS
    result.owners = [{"owner": owner, "units": [o.unit for o in owner.current_ownerships]}
                     for owner in owners[:MAX_OWNERS]]

    if kind != "unit":
        seen, units = set(), []
        for row in result.owners:
            for unit in row["units"]:
                if unit.pk not in seen:
                    seen.add(unit.pk)
                    units.append(unit)
        result.more_units = len(units) > MAX_UNITS
        result.units = units[:MAX_UNITS]

    if kind == "mobile" and not result.owners:
        result.unknown_number = True
    if kind in ("name", "mobile_prefix") and not result.owners:
        result.notice = gettext("没有找到匹配的业主（或不在您负责的项目内）。")

    units_by_pk = {unit.pk: unit for unit in result.units}
    if unit_id is not None and unit_id in units_by_pk:
        result.picked_unit = units_by_pk[unit_id]
    elif len(units_by_pk) == 1 and kind == "unit":  # the unit the caller named
        result.picked_unit = result.units[0]
    result.category = category

    where = Q(unit_id__in=list(units_by_pk)) if units_by_pk else Q(pk__in=[])
    if kind == "mobile":
        where |= Q(reporter_mobile=value)  # the caller's own earlier calls, owner or not
    if units_by_pk or kind == "mobile":
        since = timezone.now() - timedelta(days=RECENT_DAYS)
        cases = (
            scope.restrict(Case.objects.filter(where), user)
            .filter(Q(status__in=OPEN_STATUSES) | Q(registered_at__gte=since))
            .select_related("category__parent", "unit", "project")
            .order_by("-registered_at", "-pk")
        )
        cases = list(cases[: MAX_CASES + 1])
        result.more_cases = len(cases) > MAX_CASES
        picked, category = result.picked_unit, result.category
        for case in cases[:MAX_CASES]:
            is_open = case.status in OPEN_STATUSES
            result.cases.append({
                "case": case,
                "open": is_open,
                "duplicate": bool(is_open and picked is not None and category is not None
                                  and case.unit_id == picked.pk and case.category_id == category.pk),
            })
    return result
