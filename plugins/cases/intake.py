"""来电登记: what a call-centre agent needs to know about a caller, from one thing typed.

``lookup(user, text, unit_id=None, category=None)`` reads what was typed — a mobile in any
common form (+86, spaces, dashes), an owner's name, or a unit label (3-2-1502) — and returns the
matching owners of the user's projects (estates.scope) with their current units, and for those
units (and for the number itself) every open case and the cases of the last ``RECENT_DAYS``
days. Every lookup is an indexed equality or prefix match (never ``LIKE '%…%'``): owners by
mobile (exact, or a prefix of at least ``MOBILE_PREFIX_MIN`` digits) or by name (prefix), units by
label (prefix), cases by unit and by reporter mobile. The number of queries does not grow with
the owners, units or cases found: each list is one query, each capped.

``page_options`` loads what the registration form offers (categories, the user's projects,
standard replies) in one query. Only ``register_once`` changes anything: it is
``services.register`` under the form's idempotency token, so a double submit opens one case,
not two. "Add this call to it" is ``services.add_note`` (intake_views.py).
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from django.db import IntegrityError, connections
from django.db.models import BooleanField, CharField, F, IntegerField, Prefetch, Q, TextField, Value
from django.utils import timezone
from django.utils.translation import gettext

from estates import scope
from estates.models import Owner, Ownership, Project, Unit
from estates.normalize import MOBILE_RE, clean_text
from estates.search import mobile_fragment

from . import services
from .models import Case, Category, StandardReply
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
    elif len(units_by_pk) == 1 and (kind == "unit" or len(result.owners) == 1):
        # The unit the caller named, or the only home of the only owner found.
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


# --- Registering ------------------------------------------------------------------------------------

#: ``Case.source`` of a case registered here: the form's idempotency token after this prefix.
SOURCE_PREFIX = "intake:"


def source_for(token):
    return f"{SOURCE_PREFIX}{token}"


def registered_with(token):
    """The case a form with this token already opened, or None."""
    return Case.objects.filter(source=source_for(token)).first()


def register_once(user, token, **fields):
    """(case, created): ``services.register`` with ``source="intake:<token>"``, or the case that
    token already opened. ``Case.source`` is unique (``case_unique_source``), so two submits of
    one form — a double click, a resent request, two workers at the same moment — cannot both
    insert: the second gets an IntegrityError (its transaction, counter and clocks included, is
    rolled back) and answers with the first one's case."""
    source = source_for(token)
    existing = registered_with(token)
    if existing is not None:
        return existing, False
    try:
        return services.register(user, source=source, **fields), True
    except IntegrityError:
        existing = registered_with(token)
        if existing is None:
            raise
        return existing, False


def first_due(case):
    """The running clock due first (not stopped, not paused), or None — what the agent tells
    the caller ("someone will call you within 30 minutes")."""
    if not hasattr(case, "clocks"):  # the SLA engine is not installed
        return None
    return (case.clocks.filter(stopped_at__isnull=True, paused_since__isnull=True)
            .order_by("due_at", "pk").first())


# --- What the page offers, in one query ------------------------------------------------------------

#: At most this many standard replies are offered (live ones, in their sort order).
MAX_REPLIES = 100

#: The columns every part of the options query gives, in order.
_COLUMNS = ("_type", "_pk", "_name", "_text", "_kind", "_ref", "_flag", "_sort", "_code",
            "_parent_name", "_parent_sort", "_parent_code")
_CATEGORY_FIELDS = ("id", "kind", "parent_id", "code", "name", "emergency", "sort_order", "active")
_PARENT_FIELDS = ("id", "kind", "code", "name", "sort_order")  # in Category's field order


def _typed(value, output_field):
    return Value(value, output_field=output_field)


@dataclass
class Options:
    """The page's choices: active categories (with their parents), the agent's projects and the
    live standard replies."""

    categories: list
    projects: list
    replies: list


def page_options(user):
    """The active categories, the projects ``user`` serves and the live standard replies in one
    query (UNION ALL, as ``forms.dispatch_options``): the intake page is opened for every call,
    and its look-up already spends most of its query budget. Categories and projects come back
    as model instances (what the form hands to ``services.register``); replies as plain rows.
    The lists are small (an administrator's tree, a staff member's projects, reviewed replies);
    replies are capped in Python, since SQLite takes no LIMIT inside a UNION."""
    text, number, flag = CharField(), IntegerField(), BooleanField()
    categories = Category.objects.filter(active=True).order_by().annotate(
        _type=_typed("category", text), _pk=F("pk"), _name=F("name"), _text=_typed("", TextField()),
        _kind=F("kind"), _ref=F("parent_id"), _flag=F("emergency"), _sort=F("sort_order"), _code=F("code"),
        _parent_name=F("parent__name"), _parent_sort=F("parent__sort_order"), _parent_code=F("parent__code"),
    )
    projects = scope.restrict(Project.objects.all(), user).order_by().annotate(
        _type=_typed("project", text), _pk=F("pk"), _name=F("name"), _text=_typed("", TextField()),
        _kind=_typed("", text), _ref=_typed(None, number), _flag=_typed(False, flag), _sort=_typed(0, number),
        _code=F("code"), _parent_name=_typed("", text), _parent_sort=_typed(0, number),
        _parent_code=_typed("", text),
    )
    replies = StandardReply.objects.filter(live=True).order_by().annotate(
        _type=_typed("reply", text), _pk=F("pk"), _name=F("title"), _text=F("text"), _kind=F("kind"),
        _ref=F("category_id"), _flag=_typed(False, flag), _sort=F("sort_order"), _code=_typed("", text),
        _parent_name=_typed("", text), _parent_sort=_typed(0, number), _parent_code=_typed("", text),
    )
    rows = categories.values_list(*_COLUMNS).union(
        projects.values_list(*_COLUMNS), replies.values_list(*_COLUMNS), all=True)
    db = Category.objects.db
    found = Options([], [], [])
    parents = {}
    for kind, pk, name, body, of_kind, ref, emergency, sort, code, parent_name, parent_sort, parent_code in rows:
        if kind == "category":
            category = Category.from_db(db, _CATEGORY_FIELDS, (pk, of_kind, ref, code, name, bool(emergency),
                                                               sort, True))
            if ref is not None:
                if ref not in parents:
                    parents[ref] = Category.from_db(db, _PARENT_FIELDS, (ref, of_kind, parent_code, parent_name,
                                                                         parent_sort))
                category.parent = parents[ref]
            found.categories.append(category)
        elif kind == "project":
            found.projects.append(Project.from_db(db, ("id", "code", "name"), (pk, code, name)))
        else:
            found.replies.append(SimpleNamespace(pk=pk, title=name, text=body, kind=of_kind, category_id=ref,
                                                 sort_order=sort))
    found.categories.sort(key=lambda item: (item.kind, item.sort_order, item.code))  # Category's ordering
    found.projects.sort(key=lambda item: (item.name, item.pk))
    found.replies.sort(key=lambda item: (item.sort_order, item.pk))
    del found.replies[MAX_REPLIES:]
    return found
