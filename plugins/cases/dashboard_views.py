"""指标看板 (/admin/cases/dashboard/): the manager dashboard page, its XLSX export and its panel
on the admin home. Needs ``cases.view_figures``; figures are limited to the user's projects.

The page is built as tables (``Table``): the same rows render as HTML and as XLSX sheets, so
the export always matches the page.
"""

import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import path, reverse, reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from estates import scope

from . import charts, dashboard, rollups
from .admin_pages import TitledPage
from .dashboard import CLOCKS, Dimension
from .models import ClockKind, Kind

PERMISSION = "cases.view_figures"


def percent(value):
    return "—" if value is None else f"{value * 100:.1f}%"


def duration(minutes):
    if minutes is None:
        return "—"
    if minutes < 90:
        return gettext("%(n)s 分钟") % {"n": round(minutes)}
    if minutes < 48 * 60:
        return gettext("%(n)s 小时") % {"n": f"{minutes / 60:.1f}"}
    return gettext("%(n)s 天") % {"n": f"{minutes / 1440:.1f}"}


def score(value):
    return "—" if value is None else f"{value:.2f}"


@dataclass
class Cell:
    value: object  # the number written to XLSX (None: empty)
    text: str = ""
    url: str = ""

    def __post_init__(self):
        if not self.text:
            self.text = "—" if self.value is None else str(self.value)


@dataclass
class Table:
    slug: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    note: str = ""


def _count(value, url):
    return Cell(value, str(value), url if value else "")


def _rate(value, url=""):
    return Cell(None if value is None else round(value * 100, 1), percent(value), url if value is not None else "")


#: The columns of a breakdown table (by project, department, contractor, category, channel).
BREAKDOWN_COLUMNS = [_("受理量"), _("已关闭"), _("办结率"), _("在办"), _("联系业主按时率"), _("办结按时率"),
                     _("报修"), _("一次维修成功率"), _("重复报修"), _("回访满意度"), _("低分工单")]


def _breakdown_row(period, figures, label, **where):
    drill = lambda figure="": dashboard.drill(period, figure, **where)  # noqa: E731
    contact, resolution = figures.clock(ClockKind.CONTACT), figures.clock(ClockKind.RESOLUTION)
    return [
        Cell(None, label, drill()),
        _count(figures.cases_in, drill()),
        _count(figures.closed, drill("closed")),
        _rate(figures.closure_rate, drill("closed")),
        _count(figures.open, drill("open")),
        _rate(contact["rate"], drill("clock_late:contact")),
        _rate(resolution["rate"], drill("clock_late:resolution")),
        _count(figures.repairs, drill("repairs")),
        _rate(figures.first_time_rate, drill("not_first_time")),
        _count(figures.repeats, drill("repeat")),
        Cell(None if figures.satisfaction is None else round(figures.satisfaction, 2),
             f"{score(figures.satisfaction)}（{figures.scored}）", drill("scored") if figures.scored else ""),
        _count(figures.low_scores, drill("low_score")),
    ]


BREAKDOWNS = [
    (Dimension.DEPARTMENT, "department", _("按责任部门")),
    (Dimension.CONTRACTOR, "contractor", _("按施工单位（拥有一次机会的单位）")),
    (Dimension.CATEGORY, "category", _("按分类")),
    (Dimension.CHANNEL, "channel", _("按来源渠道")),
    (Dimension.KIND, "kind", _("按类型")),
]


def build_tables(board, now):
    period, total = board.period, board.total
    tables = []
    drill = lambda figure="", **where: dashboard.drill(period, figure, **where)  # noqa: E731

    overview = Table("overview", gettext("概览"), [_("指标"), _("数值"), _("说明")])
    overview.rows = [
        [Cell(None, gettext("受理量")), _count(total.cases_in, drill()), Cell(None, gettext("统计期内登记"))],
        [Cell(None, gettext("已关闭")), _count(total.closed, drill("closed")),
         Cell(None, gettext("办结率 %(rate)s") % {"rate": percent(total.closure_rate)})],
        [Cell(None, gettext("已取消")), _count(total.cancelled, drill("cancelled")), Cell(None, "")],
        [Cell(None, gettext("在办（本期受理）")), _count(total.open, drill("open")), Cell(None, "")],
        [Cell(None, gettext("一次维修成功率")), _rate(total.first_time_rate, drill("not_first_time")),
         Cell(None, gettext("%(ok)s / %(n)s 单，转第三方 %(third)s 单")
              % {"ok": total.first_time, "n": total.repairs_counted, "third": total.third_party})],
        [Cell(None, gettext("重复报修")), _count(total.repeats, drill("repeat")),
         Cell(None, gettext("重复报修率 %(rate)s") % {"rate": percent(total.repeat_rate)})],
        [Cell(None, gettext("回访满意度")),
         Cell(None if total.satisfaction is None else round(total.satisfaction, 2), score(total.satisfaction),
              drill("scored") if total.scored else ""),
         Cell(None, gettext("%(n)s 次评分，%(low)s 张工单有低分") % {"n": total.scored, "low": total.low_scores})],
        [Cell(None, gettext("当前在办")), _count(sum(v[0] for v in now.values()),
                                                  dashboard.drill(period, "open", live=True)), Cell(None, "")],
        [Cell(None, gettext("当前超时")), _count(sum(v[1] for v in now.values()),
                                                  dashboard.drill(period, "queue:breached", live=True)),
         Cell(None, "")],
    ]
    tables.append(overview)

    clocks = Table("clocks", gettext("时限按时率"),
                   [_("时限"), _("已有结果"), _("按时"), _("超时"), _("按时率"), _("用时中位数"), _("用时 90 分位")])
    for clock in CLOCKS:
        figures = total.clock(clock)
        times = total.percentiles(f"clock:{clock}")
        clocks.rows.append([
            Cell(None, str(ClockKind(clock).label)),
            _count(figures["decided"], drill(f"clock_decided:{clock}")),
            _count(figures["met"], drill(f"clock_met:{clock}")),
            _count(figures["late"], drill(f"clock_late:{clock}")),
            _rate(figures["rate"]),
            Cell(None if times["median"] is None else round(times["median"]), duration(times["median"])),
            Cell(None if times["p90"] is None else round(times["p90"]), duration(times["p90"])),
        ])
    tables.append(clocks)

    durations = Table("durations", gettext("办结用时（登记到关闭）"),
                      [_("类型"), _("已关闭"), _("用时中位数"), _("用时 90 分位")])
    for kind, label in Kind.choices:
        times = total.percentiles(f"case:{kind}")
        durations.rows.append([
            Cell(None, str(label)), _count(times["n"], drill("closed", dimension=Dimension.KIND, key=kind)),
            Cell(None if times["median"] is None else round(times["median"]), duration(times["median"])),
            Cell(None if times["p90"] is None else round(times["p90"]), duration(times["p90"])),
        ])
    tables.append(durations)

    projects = Table("project", gettext("按项目"), [_("项目"), *BREAKDOWN_COLUMNS, _("当前在办"), _("当前超时")])
    names = dashboard.labels(None, [str(pk) for pk in set(board.by_project) | set(now)])
    for project_id in sorted(set(board.by_project) | set(now), key=lambda pk: names.get(str(pk), "")):
        figures = board.by_project.get(project_id) or dashboard.Figures()
        open_now, breached_now = now.get(project_id, (0, 0))
        row = _breakdown_row(period, figures, names.get(str(project_id), str(project_id)), project_id=project_id)
        row += [_count(open_now, dashboard.drill(period, "open", project_id=project_id, live=True)),
                _count(breached_now, dashboard.drill(period, "queue:breached", project_id=project_id, live=True))]
        projects.rows.append(row)
    tables.append(projects)

    for dimension, slug, title in BREAKDOWNS:
        groups = board.by.get(dimension, {})
        table = Table(slug, str(title), [_("名称"), *BREAKDOWN_COLUMNS])
        names = dashboard.labels(dimension, list(groups))
        for key in sorted(groups, key=lambda key: (-groups[key].cases_in, names[key])):
            table.rows.append(_breakdown_row(period, groups[key], names[key], dimension=dimension, key=key))
        tables.append(table)
    return tables


def charts_for(board, tables):
    period, total = board.period, board.total
    trend = dashboard.trend(period)
    points = []
    for month, cases_in, closed in trend:
        month_period = dashboard.Period(month, rollups.next_month(month), period.project_ids, period.project)
        points.append((f"{month:%y-%m}", [cases_in, closed],
                       [dashboard.drill(month_period), dashboard.drill(month_period, "closed")]))
    rates = [(str(ClockKind(clock).label), total.clock(clock)["rate"],
              dashboard.drill(period, f"clock_late:{clock}")) for clock in CLOCKS]
    return {
        "trend": charts.columns(gettext("近 12 个月受理与关闭"), points, [gettext("受理量"), gettext("已关闭")]),
        "clocks": charts.hbars(gettext("各时限按时率"), rates, maximum=1, text=percent),
    }


class DashboardMixin:
    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class DashboardView(DashboardMixin, TitledPage, TemplateView):
    template_name = "cases/admin/dashboard.html"
    page_title = _("指标看板")
    header_icon = "view"

    def get(self, request, *args, **kwargs):
        try:
            period = dashboard.period_from(request.GET, request.user)
        except LookupError:
            raise Http404(gettext("项目不存在，或不在您负责的项目内。")) from None
        except dashboard.PeriodError as error:
            context = self.get_context_data(error=str(error), **self._form_context(None))
            return self.render_to_response(context, status=400)
        board = dashboard.board(period)
        now = dashboard.now_figures(period)
        tables = build_tables(board, now)
        if request.GET.get("export") == "xlsx":
            wanted = request.GET.get("table", "")
            chosen = [table for table in tables if table.slug == wanted] if wanted else tables
            if not chosen:
                raise Http404(gettext("没有这张表。"))
            return xlsx_response(period, chosen)
        sections = [component for fn in hooks.get_hooks("cases_dashboard_sections")
                    if (component := fn(request, period)) is not None]
        context = self.get_context_data(
            period=period, board=board, tables=tables, charts=charts_for(board, tables),
            sections=sections, as_of=rollups.as_of(), empty=board.total.cases_in == 0,
            formulas=dashboard.FORMULAS, **self._form_context(period),
        )
        return self.render_to_response(context)

    def _form_context(self, period):
        projects = list(scope.projects_for(self.request.user).order_by("code").values_list("pk", "name"))
        query = self.request.GET.copy()
        query.pop("export", None)
        query.pop("table", None)
        chosen = self.request.GET.get("project", "")
        return {
            "projects": projects, "chosen_project": chosen,
            "presets": [(label, f"{start:%Y-%m}", f"{end:%Y-%m}",
                         dashboard.Period(start, rollups.next_month(end), None).query()
                         + (f"&project={chosen}" if chosen.isdigit() else ""))
                        for label, start, end in dashboard.presets()],
            "from_value": self.request.GET.get("from") or f"{dashboard.current_month():%Y-%m}",
            "to_value": self.request.GET.get("to") or self.request.GET.get("from")
            or f"{dashboard.current_month():%Y-%m}",
            "export_query": period.query(export="xlsx") if period else "",
        }


def xlsx_response(period, tables):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for table in tables:
        sheet = book.create_sheet(title=table.title[:31])
        sheet.append([gettext("统计期：%(label)s") % {"label": period.label}])
        sheet.append([str(column) for column in table.columns])
        for row in table.rows:
            sheet.append([cell.value if cell.value is not None else cell.text for cell in row])
    stream = io.BytesIO()
    book.save(stream)
    name = f"dashboard-{period.start:%Y%m}-{period.last_day:%Y%m}.xlsx"
    response = HttpResponse(stream.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- The panel on the admin home -------------------------------------------------------------


class DashboardPanel(Component):
    """This month in the user's projects: a few figures and the way to the full page."""

    name = "cases_dashboard"
    order = 120
    template_name = "cases/admin/dashboard_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        month = dashboard.current_month()
        allowed = scope.project_ids_for(self.user)
        period = dashboard.Period(month, rollups.next_month(month), None if allowed is None else sorted(allowed))
        board = dashboard.board(period)
        now = dashboard.now_figures(period)
        total = board.total
        drill = lambda figure="", **kw: dashboard.drill(period, figure, **kw)  # noqa: E731
        return {
            "period": period, "as_of": rollups.as_of(), "url": reverse("cases_dashboard"),
            "figures": [
                (gettext("本月受理"), str(total.cases_in), drill()),
                (gettext("办结率"), percent(total.closure_rate), drill("closed")),
                (gettext("联系业主按时率"), percent(total.clock(ClockKind.CONTACT)["rate"]),
                 drill("clock_late:contact")),
                (gettext("投诉答复按时率"), percent(total.clock(ClockKind.ANSWER)["rate"]), drill("clock_late:answer")),
                (gettext("一次维修成功率"), percent(total.first_time_rate), drill("not_first_time")),
                (gettext("当前超时"), str(sum(v[1] for v in now.values())),
                 dashboard.drill(period, "queue:breached", live=True)),
            ],
        }


def dashboard_panel(request, panels):
    if request.user.has_perm(PERMISSION):
        panels.append(DashboardPanel(request.user))


# --- Wiring (wagtail_hooks.py) ---------------------------------------------------------------------


def dashboard_urls():
    return [path("cases/dashboard/", DashboardView.as_view(), name="cases_dashboard")]


class DashboardMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(PERMISSION)


def dashboard_menu_item():
    # Beside 回访台 (182) and 来电登记 (183).
    return DashboardMenuItem(_("指标看板"), reverse_lazy("cases_dashboard"), name="cases-dashboard", icon_name="view",
                             order=184)
