"""The manager dashboard's figures (指标看板): read from the monthly roll-ups (rollups.py), for
a period of whole months and the projects a manager may see, plus the live "now" figures.

Every figure is about the cases registered in the period (the cohort), so each one drills down
to the case list filtered by registration date and the figure's condition (``drill``). The
formulas below are shown on the page (``FORMULAS``) and in the README.
"""

import datetime as dt
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from estates import scope
from estates.models import Contractor, Department, Project

from . import rollups
from .models import CaseRollup, Category, Channel, ClockKind, Dimension, Kind

#: The clocks on the dashboard, in the order of a case's life.
CLOCKS = [ClockKind.ACKNOWLEDGEMENT, ClockKind.CONTACT, ClockKind.ON_SITE, ClockKind.DEPARTMENT_REPLY,
          ClockKind.ANSWER, ClockKind.RESOLUTION, ClockKind.CALLBACK, ClockKind.RECHECK]

#: Counters summed from the roll-ups.
COUNTERS = ("cases_in", "closed", "cancelled", "open", "late_open", "repairs", "repairs_counted", "first_time", "third_party",
            "repeats", "scored", "score_total", "low_scores")

FORMULAS = [
    (_("受理量"), _("统计期内登记的工单数（按登记时间归入月份，北京时间）。以下各项均针对这批工单。")),
    (_("办结率"), _("已关闭 ÷（受理量 − 已取消）。")),
    (_("在办"), _("这批工单中截至数据时间仍未完工的（已登记、已受理、已派单、处理中、暂停）。")),
    (_("时限按时率"), _("按时的工单 ÷ 该时限已有结果的工单，每张工单每种时限算一次。时限停止或已超时（含仍在计时的）即有结果；"
                    "有一轮超时（如重开后的第二轮）即为超时，否则为按时；仍在计时且未超时的不计入。")),
    (_("一次维修成功率"), _("一次修好的报修 ÷ 已有结果的报修。施工单位的一次机会已结束（已完工或已转第三方）即有结果；"
                      "未转第三方、验收未被拒、回访未因低分重开、未被重开的为一次修好。按拥有这次机会的施工单位统计。")),
    (_("重复报修率"), _("重复报修 ÷ 报修量。同一房号同一分类在规则设定天数（默认 90 天）内再次报修即为重复报修。")),
    (_("回访满意度"), _("接通并评分的回访（含业主在工单页的评价）的平均分，满分 5 分（括号内为评分次数）；"
                   "低于 3 分为低分，低分会重开工单；低分工单为得过低分的工单数。")),
    (_("用时中位数 / 90 分位"), _("已关闭工单从登记到关闭的时长、已结束时限从开始到结束的时长（自然时间，含暂停）。"
                           "按时长区间累计后在区间内线性估算，精度为所在区间。")),
    (_("当前在办 / 当前超时"), _("不受统计期限制：现在仍未完工的工单，以及其中有时限已超时（时限巡检已记录）的工单；"
                            "与其他指标同一数据时间。点击进入的“已超时”队列是实时的，可能多出最近一分钟内到期的。")),
]


# --- The period --------------------------------------------------------------------------------

MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
#: The longest period one page adds up (a page of ten years would still be fast, but unreadable).
MAX_MONTHS = 36


class PeriodError(ValueError):
    pass


def parse_month(text):
    match = MONTH_RE.match((text or "").strip())
    if not match:
        raise PeriodError(_("月份格式应为 2026-10。"))
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise PeriodError(_("月份超出范围。"))
    return dt.date(year, month, 1)


@dataclass
class Period:
    """Whole months from ``start`` (inclusive) to ``end`` (exclusive), over ``project_ids``
    (None: every project). The contract of the ``cases_dashboard_sections`` hook."""

    start: dt.date
    end: dt.date
    project_ids: list | None
    project: object = None  # the one chosen project, if any

    @property
    def months(self):
        month, months = self.start, []
        while month < self.end:
            months.append(month)
            month = rollups.next_month(month)
        return months

    @property
    def last_day(self):
        return self.end - dt.timedelta(days=1)

    @property
    def label(self):
        first, last = self.start, self.last_day
        if len(self.months) == 1:
            return gettext("%(year)s年%(month)s月") % {"year": first.year, "month": first.month}
        return gettext("%(start)s 至 %(end)s") % {"start": f"{first:%Y-%m}", "end": f"{last:%Y-%m}"}

    def query(self, **extra):
        """The dashboard's own GET parameters for this period, with ``extra``."""
        params = {"from": f"{self.start:%Y-%m}", "to": f"{self.last_day:%Y-%m}"}
        if self.project is not None:
            params["project"] = self.project.pk
        params.update(extra)
        return urlencode(params)


def current_month():
    return timezone.localdate().replace(day=1)


def period_from(params, user):
    """The Period asked for in ``params`` (GET), within what ``user`` may see. Raises PeriodError
    (a message for the user) for a malformed or impossible period, Http404-worthy LookupError for
    a project outside the user's scope."""
    this_month = current_month()
    start = parse_month(params["from"]) if params.get("from") else this_month
    end_month = parse_month(params["to"]) if params.get("to") else start
    if end_month < start:
        raise PeriodError(_("结束月份不能早于开始月份。"))
    end = rollups.next_month(end_month)
    if len(Period(start, end, None).months) > MAX_MONTHS:
        raise PeriodError(_("统计期最长 %(n)s 个月。") % {"n": MAX_MONTHS})
    allowed = scope.project_ids_for(user)
    project = None
    project_text = (params.get("project") or "").strip()
    if project_text:
        if not project_text.isdigit():
            raise PeriodError(_("项目参数无效。"))
        project = scope.restrict(Project.objects.all(), user).filter(pk=int(project_text)).first()
        if project is None:
            raise LookupError(project_text)
        project_ids = [project.pk]
    else:
        project_ids = None if allowed is None else sorted(allowed)
    return Period(start, end, project_ids, project)


def presets():
    """(label, from, to) of the usual periods."""
    month = current_month()
    last = (month - dt.timedelta(days=1)).replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    twelve = month
    for _i in range(11):
        twelve = (twelve - dt.timedelta(days=1)).replace(day=1)
    return [
        (_("本月"), month, month), (_("上月"), last, last), (_("本季度"), quarter, month),
        (_("今年"), month.replace(month=1), month), (_("近12个月"), twelve, month),
        (_("去年"), month.replace(year=month.year - 1, month=1), month.replace(year=month.year - 1, month=12)),
    ]


# --- Adding up --------------------------------------------------------------------------------


CLOCK_COLUMNS = tuple(f"{clock}_{what}" for clock in ClockKind.values for what in ("decided", "met"))


@dataclass
class Figures:
    """The summed counters of some cohorts, and the figures that follow from them."""

    counts: dict = field(default_factory=lambda: dict.fromkeys(COUNTERS + CLOCK_COLUMNS, 0))
    durations: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, values):
        """Add a row of sums in the order COUNTERS + CLOCK_COLUMNS."""
        for name, value in zip(COUNTERS + CLOCK_COLUMNS, values):
            self.counts[name] += value or 0

    def add_durations(self, durations):
        for measure, buckets in (durations or {}).items():
            target = self.durations[measure]
            for index, count in buckets.items():
                target[int(index)] += count

    def __getattr__(self, name):
        counts = self.__dict__.get("counts")
        if counts is not None and name in counts:
            return counts[name]
        raise AttributeError(name)

    @property
    def closure_rate(self):
        return ratio(self.closed, self.cases_in - self.cancelled)

    @property
    def first_time_rate(self):
        return ratio(self.first_time, self.repairs_counted)

    @property
    def repeat_rate(self):
        return ratio(self.repeats, self.repairs)

    @property
    def satisfaction(self):
        return self.score_total / self.scored if self.scored else None

    def clock(self, clock):
        decided, met = self.counts[f"{clock}_decided"], self.counts[f"{clock}_met"]
        return {"decided": decided, "met": met, "late": decided - met, "rate": ratio(met, decided)}

    def percentiles(self, measure):
        buckets = self.durations.get(measure) or {}
        return {"n": sum(buckets.values()), "median": percentile(buckets, 0.5), "p90": percentile(buckets, 0.9)}


def ratio(part, whole):
    return part / whole if whole else None


def percentile(buckets, q):
    """Minutes at quantile ``q`` of a histogram {bucket index: count} (rollups.EDGES), linear
    within the bucket; None without data. The open last bucket gives its lower edge."""
    total = sum(buckets.values())
    if not total:
        return None
    goal, seen = q * total, 0
    for index in sorted(buckets):
        count = buckets[index]
        if seen + count >= goal:
            low = rollups.EDGES[index]
            if index + 1 >= len(rollups.EDGES):
                return low
            high = rollups.EDGES[index + 1]
            return low + (high - low) * ((goal - seen) / count if count else 0)
        seen += count
    return rollups.EDGES[max(buckets)]


def _rows(period):
    rows = CaseRollup.objects.filter(month__gte=period.start, month__lt=period.end)
    if period.project_ids is not None:
        rows = rows.filter(project_id__in=period.project_ids)
    return rows.order_by()


def _sums():
    return {name: Sum(name) for name in COUNTERS + CLOCK_COLUMNS}


@dataclass
class Board:
    period: Period
    total: Figures
    by: dict  # dimension -> {key: Figures}
    by_project: dict  # project id -> Figures


def board(period):
    """The summed figures of ``period``: the whole, per project and per key of each dimension.
    Three queries, the sums done by the database: a year of every project is some tens of
    thousands of roll-up rows, and a few hundred sums come back."""
    total, by, by_project = Figures(), defaultdict(lambda: defaultdict(Figures)), defaultdict(Figures)
    names = COUNTERS + CLOCK_COLUMNS
    whole = _rows(period).filter(dimension=Dimension.ALL)
    for row in whole.values("project_id").annotate(**_sums()).values_list("project_id", *names):
        by_project[row[0]].add(row[1:])
        total.add(row[1:])
    parts = _rows(period).exclude(dimension=Dimension.ALL)
    for row in parts.values("dimension", "key").annotate(**_sums()).values_list("dimension", "key", *names):
        by[row[0]][row[1]].add(row[2:])
    for (durations,) in whole.values_list("durations"):
        total.add_durations(durations)
    return Board(period, total, by, by_project)


def labels(dimension, keys):
    """{key: label} for the keys of a dimension (one query for the model-backed ones)."""
    if dimension == Dimension.KIND:
        return {key: str(dict(Kind.choices).get(key, key)) for key in keys}
    if dimension == Dimension.CHANNEL:
        return {key: str(dict(Channel.choices).get(key, key)) for key in keys}
    model = {Dimension.CATEGORY: Category, Dimension.CONTRACTOR: Contractor,
             Dimension.DEPARTMENT: Department}.get(dimension, Project)
    ids = [int(key) for key in keys if key and key.isdigit()]
    if model is Category:
        names = {pk: f"{parent} / {name}" if parent else name
                 for pk, name, parent in model.objects.filter(pk__in=ids).values_list("pk", "name", "parent__name")}
    else:
        names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {key: names.get(int(key), key) if key.isdigit() else str(NONE_LABELS.get(dimension, "—"))
            for key in keys}


NONE_LABELS = {Dimension.CATEGORY: _("（未分类）"), Dimension.CONTRACTOR: _("（未派施工单位）"),
               Dimension.DEPARTMENT: _("（未派部门）")}


def trend(period, months=12):
    """[(month, cases in, closed)] for the ``months`` months ending with the period (one query)."""
    first = period.start
    while len(Period(first, period.end, None).months) < months:
        first = (first - dt.timedelta(days=1)).replace(day=1)
    rows = CaseRollup.objects.filter(dimension=Dimension.ALL, month__gte=first, month__lt=period.end)
    if period.project_ids is not None:
        rows = rows.filter(project_id__in=period.project_ids)
    found = {month: (cases_in, closed) for month, cases_in, closed in
             rows.order_by().values("month").annotate(i=Sum("cases_in"), c=Sum("closed")).values_list("month", "i", "c")}
    return [(month, *found.get(month, (0, 0))) for month in Period(first, period.end, None).months]


def now_figures(period):
    """{project id: (open now, breached now)} in the period's projects, whatever the period: the
    cohorts' open and late-open counts summed over every month (one query). As current as the
    roll-ups: a case that opens, closes or is recorded late marks its cohort, and the sweep that
    records a breach recomputes it."""
    rows = CaseRollup.objects.filter(dimension=Dimension.ALL)
    if period.project_ids is not None:
        rows = rows.filter(project_id__in=period.project_ids)
    found = rows.order_by().values("project_id").annotate(o=Sum("open"), late=Sum("late_open"))
    return {pk: (o, late) for pk, o, late in found.values_list("project_id", "o", "late") if o or late}


# --- Drilling down ----------------------------------------------------------------------------

#: The list filter a dimension maps to (viewsets.CaseFilterSet).
DIMENSION_FILTERS = {Dimension.KIND: "kind", Dimension.CATEGORY: "category", Dimension.CHANNEL: "channel",
                     Dimension.CONTRACTOR: "holder", Dimension.DEPARTMENT: "department"}


@functools.cache
def case_list_url():
    return reverse("wagtailsnippets_cases_case:list")


def drill(period, figure="", dimension=None, key=None, project_id=None, live=False):
    """The case list behind one figure: the period's cases (unless ``live``), narrowed to a
    project and a dimension's key, with the figure's condition (viewsets.FIGURES)."""
    params = {}
    if not live:
        params["registered_at_from"] = f"{period.start:%Y-%m-%d}"
        params["registered_at_to"] = f"{period.last_day:%Y-%m-%d}"
    if project_id is not None:
        params["project"] = project_id
    elif period.project is not None:
        params["project"] = period.project.pk
    if dimension in DIMENSION_FILTERS:
        if key:
            params[DIMENSION_FILTERS[dimension]] = key
        else:
            params["missing"] = DIMENSION_FILTERS[dimension]
    if figure:
        if figure.startswith("queue:"):
            params["queue"] = figure.split(":", 1)[1]
        else:
            params["figure"] = figure
    return f"{case_list_url()}?{urlencode(params)}"
