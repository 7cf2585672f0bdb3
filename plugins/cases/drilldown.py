"""The conditions behind the dashboard's figures (dashboard.py), as filters of the case list
(``?figure=clock_late:contact``): a figure's number and its drill-down list count the same
cases, by the same rules as rollups.compute."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .models import CaseClock, CaseEvent, ClockKind, Kind, Status
from .models.cases import LOW_SCORE_EVENTS, holder
from .models.choices import OPEN_STATUSES


def _clocks(clock):
    return CaseClock.objects.filter(case_id=OuterRef("pk"), clock=clock)


def _decided(clock):
    return Q(Exists(_clocks(clock).filter(Q(stopped_at__isnull=False) | Q(breached_at__isnull=False))))


def _late(clock):
    return Q(Exists(_clocks(clock).filter(breached_at__isnull=False)))


def _met(clock):
    # Once per case and clock kind (rollups.clock_outcomes): decided, and no round late.
    return _decided(clock) & ~_late(clock)


def _events(condition):
    return Q(Exists(CaseEvent.objects.filter(condition, case_id=OuterRef("pk"))))


def _failed():
    from .figures import FAILED  # figures imports the services, which import the roll-ups

    return _events(FAILED)


def _counted():
    holder = Q(original_contractor__isnull=False) | Q(contractor__isnull=False)
    return Q(kind=Kind.REPAIR) & holder & (Q(completed_at__isnull=False) | Q(original_contractor__isnull=False))


def _figures():
    figures = {
        "closed": (_("已关闭"), lambda: Q(status=Status.CLOSED)),
        "cancelled": (_("已取消"), lambda: Q(status=Status.CANCELLED)),
        # As "not finished" rather than five statuses: the list then reads its page in date order
        # (SQLite would otherwise take the status index and sort a year of open cases).
        "open": (_("在办"), lambda: ~Q(status__in=set(Status.values) - OPEN_STATUSES)),
        "repairs": (_("报修"), lambda: Q(kind=Kind.REPAIR)),
        "counted": (_("已有结果的报修"), _counted),
        "first_time": (_("一次修好"), lambda: _counted() & Q(original_contractor__isnull=True) & ~_failed()),
        "not_first_time": (_("未能一次修好"), lambda: _counted() & (Q(original_contractor__isnull=False) | _failed())),
        "third_party": (_("转第三方"), lambda: _counted() & Q(original_contractor__isnull=False)),
        "repeat": (_("重复报修"), lambda: Q(kind=Kind.REPAIR, repeat_of__isnull=False)),
        "scored": (_("已评分回访"), lambda: _events(Q(verb="callback", data__reached=True))),
        "low_score": (_("低分回访"), lambda: _events(LOW_SCORE_EVENTS)),
    }
    for clock, label in ClockKind.choices:
        figures[f"clock_decided:{clock}"] = (_("%(clock)s：已有结果") % {"clock": label}, lambda c=clock: _decided(c))
        figures[f"clock_met:{clock}"] = (_("%(clock)s：按时") % {"clock": label}, lambda c=clock: _met(c))
        figures[f"clock_late:{clock}"] = (_("%(clock)s：超时") % {"clock": label}, lambda c=clock: _late(c))
    return figures


#: slug -> (label, () -> Q)
FIGURES = _figures()


def figure_choices():
    return [(slug, label) for slug, (label, _condition) in FIGURES.items()]


def apply(queryset, slug):
    figure = FIGURES.get(slug)
    return queryset.filter(figure[1]()) if figure else queryset


#: ``?missing=category``: the cases without one (the dashboard's "（未分类）" rows).
MISSING = {"category": ("category__isnull", _("未分类")), "department": ("department__isnull", _("未派部门")),
           "holder": (None, _("未派施工单位"))}


def missing_choices():
    return [(slug, label) for slug, (_lookup, label) in MISSING.items()]


def apply_missing(queryset, slug):
    if slug == "holder":
        return queryset.filter(original_contractor__isnull=True, contractor__isnull=True)
    lookup = MISSING.get(slug, (None,))[0]
    return queryset.filter(**{lookup: True}) if lookup else queryset


def apply_holder(queryset, contractor_id):
    """The contractor that had the repair's one chance (figures.py): the original contractor
    once the work went to a third party, else the contractor."""
    # The expression of the index case_holder_time, so the page is read from it.
    return queryset.alias(holder=holder()).filter(holder=contractor_id)


# --- The count of a drill-down, from the roll-ups -----------------------------------------------

#: The list filters a dashboard link sets besides the period and the figure (dashboard.drill).
DIMENSION_PARAMS = {"kind": "kind", "category": "category", "channel": "channel", "department": "department",
                    "holder": "contractor"}
#: Parameters that never change which cases are listed.
PASSIVE = {"per_page", "p", "ordering"}


def _figure_count(figures, slug):
    """The number of cases behind ``slug`` in summed roll-up ``figures`` (dashboard.Figures),
    or None for a figure the roll-ups count otherwise (``scored`` counts call-backs, not cases)."""
    plain = {"": "cases_in", "closed": "closed", "cancelled": "cancelled", "open": "open", "repairs": "repairs",
             "counted": "repairs_counted", "first_time": "first_time", "third_party": "third_party",
             "repeat": "repeats", "low_score": "low_scores"}
    if slug in plain:
        return figures.counts[plain[slug]]
    if slug == "not_first_time":
        return figures.repairs_counted - figures.first_time
    what, _sep, clock = slug.partition(":")
    if clock and f"{clock}_decided" in figures.counts:
        decided, met = figures.counts[f"{clock}_decided"], figures.counts[f"{clock}_met"]
        return {"clock_decided": decided, "clock_met": met, "clock_late": decided - met}.get(what)
    return None


def known_count(params, user):
    """The dashboard's own number for a case list that is exactly one of its drill-downs (whole
    months, a project or all the user's projects, at most one dimension, a figure the roll-ups
    count by case), else None: one sum over the roll-ups. The list's rows are read live; this
    number is as of the last sweep, like the dashboard it came from, and it spares the list
    counting a year of cases."""
    from django.db.models import Sum

    from . import dashboard  # the dashboard reads the figures this module filters by
    from .models import CaseRollup, Dimension

    keys = {key for key, value in params.items() if value and key not in PASSIVE}
    if not {"registered_at_from", "registered_at_to"} <= keys:
        return None
    dimensions = keys & {*DIMENSION_PARAMS, "missing"}
    if len(dimensions) > 1 or keys - dimensions - {"registered_at_from", "registered_at_to", "project", "figure"}:
        return None
    try:
        start = dt.date.fromisoformat(params["registered_at_from"])
        last = dt.date.fromisoformat(params["registered_at_to"])
    except ValueError:
        return None
    slug = params.get("figure", "")
    if start.day != 1 or (last + dt.timedelta(days=1)).day != 1 or last < start or (slug and slug not in FIGURES):
        return None
    try:
        period = dashboard.period_from({"from": f"{start:%Y-%m}", "to": f"{last:%Y-%m}",
                                        "project": params.get("project", "")}, user)
    except (LookupError, dashboard.PeriodError):
        return None
    dimension, key = Dimension.ALL, ""
    if dimensions:
        (name,) = dimensions
        if name == "missing":
            dimension = {"category": Dimension.CATEGORY, "department": Dimension.DEPARTMENT,
                         "holder": Dimension.CONTRACTOR}.get(params["missing"])
        else:
            dimension, key = DIMENSION_PARAMS[name], params[name]
        if dimension is None:
            return None
    rows = CaseRollup.objects.filter(month__gte=period.start, month__lt=period.end, dimension=dimension, key=key)
    if period.project_ids is not None:
        rows = rows.filter(project_id__in=period.project_ids)
    names = dashboard.COUNTERS + dashboard.CLOCK_COLUMNS
    sums = rows.aggregate(**{name: Sum(name) for name in names})
    figures = dashboard.Figures()
    figures.add([sums[name] for name in names])
    return _figure_count(figures, slug)
