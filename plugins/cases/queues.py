"""The case desk's work queues and the staff look-up over cases.

A queue is a named filter on the case list (``?queue=mine``) that appears as an admin menu
item with its count. Counts are capped: each queue's count reads at most ``COUNT_CAP + 1``
index entries, all queues in one query, so the menu costs the same at 1,000 cases as at
1,000,000 ("999+"). The menu shows them on every admin page, so ``menu_counts`` keeps each
user's counts in the cache for ``QUEUE_COUNT_SECONDS`` (30 s) or until any case is saved,
whichever comes first: a dispatcher sees "未派单" drop as soon as the case is dispatched, and
the clock-driven queues (due soon, breached) lag by at most those seconds.

``search_cases`` serves the list's search box and the case chooser: numbers and mobiles by
indexed prefix, unit labels by indexed prefix, anything else through the segmented search column
of the description (plugins/cases/search.py: GIN on PostgreSQL, FTS5 on SQLite; ARCHITECTURE.md
decision 11) or the exact reporter name.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from estates import scope
from estates.models import Unit
from estates.normalize import clean_text
from estates.search import mobile_fragment

from . import search as case_search
from .models import Case, Status
from .models.choices import OPEN_STATUSES

#: Counts above this show as "999+".
COUNT_CAP = 999


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    icon: str
    condition: object  # (user) -> Q
    #: (user) -> the ids of the queue's cases, from a smaller table than cases_case: counting
    #: the queue on its own (no other filter, no project limit) reads these instead.
    case_ids: object = None

    def apply(self, queryset, user):
        return queryset.filter(self.condition(user))

    def count_alone(self, user, cap):
        """At most ``cap + 1``: the queue's size when nothing else narrows it, or None when the
        queue has no cheaper way than counting through the cases."""
        if self.case_ids is None:
            return None
        return self.case_ids(user)[: cap + 1].count()


def _mine(user):
    return Q(assignee=user, status__in=OPEN_STATUSES) if user.pk else Q(pk__in=[])


def _unassigned(user):
    return Q(
        status__in=[Status.REGISTERED, Status.ACCEPTED],
        assignee__isnull=True,
        contractor__isnull=True,
        department__isnull=True,
    )


def _status(status):
    return lambda user: Q(status=status)


#: "Due soon" means a running clock falls due within this time.
DUE_SOON = dt.timedelta(hours=2)


def _running_clocks():
    """Running, unpaused clocks (served by the partial index on due_at of running clocks)."""
    from .models import CaseClock

    return CaseClock.objects.filter(stopped_at__isnull=True)


def _breached_clocks():
    """A running clock past its due time (whether or not the sweep has recorded it yet), or
    one recorded as breached and still running (paused after the breach)."""
    now = timezone.now()
    return _running_clocks().filter(Q(paused_since__isnull=True, due_at__lt=now) | Q(breached_at__isnull=False))


def _breached(user):
    # EXISTS, not IN: many cases are late at scale, and IN would build the whole set before
    # the list's LIMIT (or the menu's capped count) could stop early.
    return Q(Exists(_breached_clocks().filter(case_id=OuterRef("pk"))))


def _breached_ids(user):
    # Counting the queue through the cases checks the clocks of every case, closed ones too,
    # until the cap: at 1M cases 116 ms on SQLite, against 4 ms over the running clocks.
    return _breached_clocks().order_by().values("case_id").distinct()


def _due_soon(user):
    now = timezone.now()
    clocks = _running_clocks().filter(
        paused_since__isnull=True, breached_at__isnull=True, due_at__gte=now, due_at__lt=now + DUE_SOON
    )
    return Q(pk__in=clocks.values("case_id"))


def _queues():
    queues = [
        Queue("mine", _("我的工单"), "user", _mine),
        Queue("unassigned", _("未派单"), "warning", _unassigned),
    ]
    if hasattr(Case, "clocks"):  # the SLA engine's clocks (ARCHITECTURE.md decision 7)
        queues += [
            Queue("breached", _("已超时"), "error", _breached, case_ids=_breached_ids),
            Queue("due_soon", _("2小时内到期"), "time", _due_soon),
        ]
    queues += [
        Queue("completed", _("待验收"), "tasks", _status(Status.COMPLETED)),
        Queue("signed_off", _("待回访"), "mail", _status(Status.SIGNED_OFF)),
    ]
    return {queue.slug: queue for queue in queues}


#: slug → queue, in menu order.
QUEUES = _queues()


def queue_choices():
    return [(queue.slug, queue.label) for queue in QUEUES.values()]


def queue_counts(user, queues=None):
    """{slug: count} of the cases ``user`` may see in each queue, each capped at
    ``COUNT_CAP + 1``, in one query."""
    queues = list(QUEUES.values() if queues is None else queues)
    if not queues:
        return {}
    allowed = scope.project_ids_for(user)
    if allowed is not None and not allowed:  # staff serving no project yet: nothing to count
        return dict.fromkeys((queue.slug for queue in queues), 0)
    base = scope.restrict(Case.objects.all(), user).order_by()
    unlimited = allowed is None
    parts, params = [], []
    for n, queue in enumerate(queues):
        if unlimited and queue.case_ids is not None:
            ids = queue.case_ids(user)
        else:
            ids = queue.apply(base, user).values("pk")
        sql, queue_params = ids[: COUNT_CAP + 1].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS queue_{n})")
        params.extend(queue_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {queue.slug: count for queue, count in zip(queues, row)}


#: Bumped after every committed change to a case: cached counts of an older generation are stale.
GENERATION_KEY = "cases:queues:generation"


def _counts_key(user):
    return f"cases:queues:counts:{user.pk}"


def cases_changed():
    """Mark every user's cached counts stale now and again once the current transaction
    commits: a request counting between the two sees the old rows and caches them under the
    first bump, which the second makes stale."""
    _bump_generation()
    transaction.on_commit(_bump_generation)


def _bump_generation():
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet, or evicted
        cache.add(GENERATION_KEY, 1, timeout=None)


#: Counted for the admin menu with the queues, in the same query and cache, though they are no
#: filters of the case list: slug → Queue (the call-back desk's due call-backs, callback_desk.py).
MENU_COUNTS = {}


def menu_counts(user):
    """``queue_counts`` of the queues and MENU_COUNTS for ``user``, through the cache (see the
    module's docstring)."""
    seconds = apps.get_app_config("cases").settings["QUEUE_COUNT_SECONDS"]
    queues = [*QUEUES.values(), *MENU_COUNTS.values()]
    if not seconds or not user.pk:
        return queue_counts(user, queues)
    key = _counts_key(user)
    found = cache.get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY, 0)
    stored = found.get(key)
    if stored is not None and stored[0] == generation:
        return stored[1]
    counts = queue_counts(user, queues)
    cache.set(key, (generation, counts), seconds)
    return counts


def count_label(count):
    return f"{COUNT_CAP}+" if count > COUNT_CAP else str(count)


def queue_menu_label(queue, count):
    return gettext("%(label)s（%(count)s）") % {"label": queue.label, "count": count_label(count)}


# --- Search ----------------------------------------------------------------------------------

#: A case number or its start: two letters then digits ("BX20261123-0007", "bx2026112").
NUMBER_RE = re.compile(r"^[A-Za-z]{2}\d[\d\-]*$")
FULL_NUMBER_RE = re.compile(r"^[A-Z]{2}\d{8}-\d{4,}$")
#: Typed digits: a mobile (with spaces, dashes, +86) or a unit label ("3-1-1502").
DIGITS_RE = re.compile(r"^[\d\s+\-()]+$")
SEPARATORS_RE = re.compile(r"[\s\-()]")
#: A mobile prefix needs this many digits; fewer would match most of the table.
MOBILE_MIN_DIGITS = 4
#: At most this many units match a label prefix ("3" matches every unit of every building 3).
UNIT_MATCHES = 500


def _mobile_fragment(text):
    digits = mobile_fragment(text, SEPARATORS_RE)
    return digits if digits.startswith("1") and len(digits) >= MOBILE_MIN_DIGITS else ""


def search_cases(queryset, query, scanning=False):
    """Number prefix, reporter mobile prefix, unit label prefix, or the words of the description
    (plugins/cases/search.py) or the reporter's exact name: all served by indexes. ``scanning``:
    for a page of a list with many matches (see search.condition)."""
    text = clean_text(query)
    if not text:
        return queryset
    if NUMBER_RE.match(text):
        number = text.upper()
        if FULL_NUMBER_RE.match(number):
            return queryset.filter(number=number)
        return queryset.filter(number__startswith=number)
    if DIGITS_RE.match(text):
        mobile = _mobile_fragment(text)
        if len(mobile) == 11:
            # A whole mobile number is never a unit label: one indexed equality.
            return queryset.filter(reporter_mobile=mobile)
        # Units by label prefix as a subquery (not a join), so both sides of the OR are served
        # by an index on cases_case (unit, reporter_mobile) instead of scanning the join.
        units = Unit.objects.filter(label__startswith=re.sub(r"\s+", "", text)).values("pk")[:UNIT_MATCHES]
        condition = Q(unit_id__in=units)
        if mobile:
            condition |= Q(reporter_mobile__startswith=mobile)
        return queryset.filter(condition)
    condition = Q(reporter_name=text)
    words = case_search.condition(text, using=queryset.db, scanning=scanning)
    return queryset.filter(condition if words is None else words | condition)
