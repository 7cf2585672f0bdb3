"""Admin screens of the case desk (客服工单): the case list with its queues, filters, search and
export; the case page; registering a case; categories and business calendars.

Cases are listed, exported, chosen and opened through estates' ScopedSnippetViewSet, so every
view is narrowed to the user's projects (ARCHITECTURE.md decision 3). Cases change only
through plugins/cases/services.py: the admin has no edit, copy or delete for them (not even for
superusers); registering and every verb call the services (views.py).
"""

import django_filters
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case as CaseWhen
from django.db.models import CharField, F, IntegerField, ProtectedError, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, Length, LPad
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.sidebar import LinkMenuItem as LinkMenuItemComponent
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from estates import scope
from estates.models import Building, Contractor, Department
from estates.viewsets import ScopedSnippetViewSet, local_naive
from home.viewsets import csv_safe

from . import drilldown
from . import search as case_search
from .admin_rules import RoutingRuleViewSet, StandardReplyViewSet
from .admin_sla import SLAPolicyViewSet
from .admin_money import CompensationViewSet, DepositChargeViewSet
from .columns import CheckboxColumn, case_list_columns, person
from .forms import HOURS_FIELD_NAMES, WEEKDAYS, CategoryForm, WorkCalendarForm
from .models import Case, Category, Channel, Kind, Priority, Status, WorkCalendar, WorkCalendarDay
from .queues import QUEUES, menu_counts, queue_choices, queue_menu_label, search_cases
from .views import CaseAttachmentView, CaseInspectView, CaseVerbView, RegisterCaseView

# --- Permissions -------------------------------------------------------------------------------

#: Any of these lets a staff member open the case list and case pages (in their projects).
VIEW_CODENAMES = (
    "view_case", "add_case", "handle_case", "dispatch_case", "callback_case", "close_case",
    "manage_case", "approve_compensation",
)


class CasePermissionPolicy(ModelPermissionPolicy):
    """"view" = any case permission; "add" = may register (services.register checks it again);
    "change" and "delete" = nobody, not even superusers: cases change only through the verbs."""

    def user_has_permission(self, user, action):
        if action == "view":
            return any(user.has_perm(f"cases.{codename}") for codename in VIEW_CODENAMES)
        if action == "add":
            return user.has_perm("cases.add_case")
        return False


register_permission_policy(Case, CasePermissionPolicy(Case))


def case_policy():
    return policy_registry.get_by_type(Case)


# --- Filters -----------------------------------------------------------------------------------
# Every choice list of the filter panel (projects, buildings, categories, contractors,
# departments) comes from one UNION query, narrowed to the user's projects: the list's query
# budget (15) leaves no room for a query per select. Buildings are listed for the chosen project
# (or the user's only project), never for every project at once.


def _text(expression):
    return Cast(expression, output_field=CharField())


def _padded(expression):
    return LPad(_text(expression), 6, Value("0"))


def filter_choices(user, project_id=None, building_id=None):
    """{"project": [(id, label)], "building": …, "category": …, "contractor": …, "department": …}.
    Buildings: of ``project_id``, else of ``building_id``'s project, else of the user's only
    project, else none."""
    ids = scope.project_ids_for(user)
    if project_id is not None and ids is not None and project_id not in ids:
        project_id = None
    if project_id is not None:
        building_project = project_id
    elif building_id is not None:
        building_project = Subquery(Building.objects.filter(pk=building_id).values("project_id")[:1])
    elif ids is not None and len(ids) == 1:
        building_project = next(iter(ids))
    else:
        building_project = None

    def rows(kind, queryset, label, sort):
        return queryset.order_by().annotate(
            _kind=Value(kind, output_field=CharField()), _label=label, _sort=sort,
            _extra=Value("", output_field=CharField()),
        ).values_list("_kind", "pk", "_label", "_sort", "_extra")

    projects = rows("project", scope.projects_for(user), F("name"), F("code"))
    contractors = scope.restrict(Contractor.objects.all(), user)
    if project_id is not None:
        contractors = contractors.filter(projects=project_id)
    parts = [
        rows("contractor", contractors, F("name"), F("name")),
        rows("department", Department.objects.all(), F("name"), F("code")),
        Category.objects.order_by().annotate(
            _kind=Value("category", output_field=CharField()),
            _label=CaseWhen(
                When(parent__isnull=True, then=F("name")),
                default=Concat(F("parent__name"), Value(" / "), F("name")),
                output_field=CharField(),
            ),
            _sort=Concat(
                _padded(Coalesce("parent__sort_order", "sort_order")),
                Coalesce("parent__code", "code"),
                CaseWhen(When(parent__isnull=True, then=Value("0")), default=Value("1")),
                _padded("sort_order"),
                F("code"),
                output_field=CharField(),
            ),
            _extra=F("kind"),
        ).values_list("_kind", "pk", "_label", "_sort", "_extra"),
    ]
    if building_project is not None:
        buildings = scope.restrict(Building.objects.filter(project_id=building_project), user)
        parts.append(rows("building", buildings, F("name"), Concat(_padded(Length("code")), F("code"))))
    found = {"project": [], "building": [], "category": [], "contractor": [], "department": []}
    kind_order = {kind: n for n, kind in enumerate(Kind.values)}
    labels = dict(Kind.choices)
    for kind, pk, label, sort, extra in projects.union(*parts, all=True):
        if kind == "category":
            label = f"{labels.get(extra, extra)} · {label}"
            found[kind].append(((kind_order.get(extra, 9), sort), (str(pk), label)))
        else:
            found[kind].append((sort, (str(pk), label)))
    return {kind: [choice for _key, choice in sorted(items)] for kind, items in found.items()}


#: Rows a page: the default and the larger choice.
PER_PAGE = (20, 100)


class CaseFilterSet(WagtailFilterSet):
    queue = django_filters.ChoiceFilter(
        label=_("队列"), choices=queue_choices, method="filter_queue", empty_label=_("全部工单")
    )
    project = django_filters.ChoiceFilter(label=_("项目"), field_name="project_id")
    building = django_filters.ChoiceFilter(label=_("楼栋"), field_name="building_id",
                                           help_text=_("先选择项目"))
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=Kind.choices)
    category = django_filters.ChoiceFilter(label=_("分类"), field_name="category_id")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=Status.choices)
    priority = django_filters.ChoiceFilter(label=_("紧急程度"), choices=Priority.choices)
    contractor = django_filters.ChoiceFilter(label=_("施工单位"), field_name="contractor_id")
    department = django_filters.ChoiceFilter(label=_("责任部门"), field_name="department_id")
    registered_at = django_filters.DateFromToRangeFilter(label=_("登记日期"), widget=DateRangePickerWidget)
    channel = django_filters.ChoiceFilter(label=_("来源渠道"), choices=Channel.choices)
    # The dashboard's drill-downs (dashboard.drill): the contractor that had the repair's one
    # chance, the cases without a category/department/contractor, and a figure's condition.
    holder = django_filters.ChoiceFilter(label=_("承修单位（一次机会）"), method="filter_holder")
    missing = django_filters.ChoiceFilter(label=_("未填写"), choices=drilldown.missing_choices,
                                          method="filter_missing")
    figure = django_filters.ChoiceFilter(label=_("指标"), choices=drilldown.figure_choices, method="filter_figure")
    per_page = django_filters.ChoiceFilter(
        label=_("每页条数"), choices=[(str(n), str(n)) for n in PER_PAGE[1:]], empty_label=str(PER_PAGE[0]),
        method="filter_nothing",
    )

    class Meta:
        model = Case
        fields = ["queue", "project", "building", "kind", "category", "status", "priority", "contractor",
                  "department", "registered_at", "channel", "holder", "missing", "figure", "per_page"]

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        data = data or {}
        project, building = data.get("project", ""), data.get("building", "")
        user = request.user if request is not None else None
        choices = {}
        if user is not None:
            choices = filter_choices(user, int(project) if project.isdigit() else None,
                                     int(building) if building.isdigit() else None)
        for name in ("project", "building", "category", "contractor", "department"):
            self.filters[name].extra["choices"] = choices.get(name, [])
        self.filters["holder"].extra["choices"] = choices.get("contractor", [])
        if choices.get("building"):
            self.filters["building"].extra.pop("help_text", None)

    def filter_queue(self, queryset, name, value):
        queue = QUEUES.get(value)
        return queue.apply(queryset, self.request.user) if queue else queryset

    def filter_holder(self, queryset, name, value):
        return drilldown.apply_holder(queryset, int(value))

    def filter_missing(self, queryset, name, value):
        return drilldown.apply_missing(queryset, value)

    def filter_figure(self, queryset, name, value):
        return drilldown.apply(queryset, value)

    def filter_nothing(self, queryset, name, value):
        return queryset


# --- The case list -----------------------------------------------------------------------------


def _name(obj):
    return str(obj) if obj is not None else ""


#: Export columns: key → (Chinese heading, value). Times are Shanghai wall-clock time without a
#: zone (XLSX cells carry none; STACK-NOTES: exports otherwise come out 8 h off).
CASE_EXPORT = {
    "number": (_("工单号"), lambda c: c.number),
    "kind": (_("类型"), lambda c: c.get_kind_display()),
    "channel": (_("来源渠道"), lambda c: c.get_channel_display()),
    "category": (_("分类"), lambda c: _name(c.category)),
    "priority": (_("紧急程度"), lambda c: c.get_priority_display()),
    "status": (_("状态"), lambda c: c.get_status_display()),
    "project": (_("项目"), lambda c: c.project.name),
    "building": (_("楼栋"), lambda c: c.building.name if c.building else ""),
    "unit": (_("房号"), lambda c: c.unit.label if c.unit else ""),
    "reporter_name": (_("报事人"), lambda c: c.reporter_name),
    "reporter_mobile": (_("联系电话"), lambda c: c.reporter_mobile),
    "description": (_("问题描述"), lambda c: c.description),
    "department": (_("责任部门"), lambda c: _name(c.department)),
    "contractor": (_("施工单位"), lambda c: _name(c.contractor)),
    "assignee": (_("处理人"), lambda c: person(c.assignee)),
    "registered_at": (_("登记时间"), lambda c: local_naive(c.registered_at)),
    "dispatched_at": (_("派单时间"), lambda c: local_naive(c.dispatched_at)),
    "completed_at": (_("完工时间"), lambda c: local_naive(c.completed_at)),
    "closed_at": (_("关闭时间"), lambda c: local_naive(c.closed_at)),
}

#: An export larger than this is refused with a message to narrow the filters: the workbook is
#: built in memory.
EXPORT_LIMIT = 20000


class CappedPaginator(Paginator):
    """Counts at most ``CAP + 1`` matching cases: counting every one of a million rows behind a
    broad filter costs more than the page itself, and nobody pages past 500 pages of 20.
    ``known_count``, when given, is that number found another way."""

    CAP = 10000

    def __init__(self, *args, known_count=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        return capped_count(self.object_list)


def capped_count(queryset):
    return queryset.order_by().values("pk")[: CappedPaginator.CAP + 1].count()


#: Parameters that neither narrow nor widen the list.
NOT_FILTERS = {"queue", "per_page", "p", "ordering"}


class CaseIndexView(ScopedSnippetViewSet.index_view_class):
    """The case list; a queue (?queue=mine) is a filter of it, so queues search, filter, page
    and export like the list."""

    paginator_class = CappedPaginator

    custom_value_preprocess = {
        **ScopedSnippetViewSet.index_view_class.custom_value_preprocess,
        str: {"csv": csv_safe},
    }

    @cached_property
    def columns(self):
        columns = case_list_columns(self.inspect_url_name)
        # The one bulk action, 批量派单 (bulk_actions.py), is for staff who may dispatch.
        if self.request.user.has_perm("cases.dispatch_case"):
            columns.insert(0, CheckboxColumn())
        return columns

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.request.user.has_perm("cases.add_case"):
            buttons.append(HeaderButton(gettext("导入"), url=reverse("cases_import"), icon_name="upload"))
        return buttons

    @cached_property
    def queue(self):
        return QUEUES.get(self.request.GET.get("queue", ""))

    def get_page_subtitle(self):
        return self.queue.label if self.queue else ""

    def get_paginator(self, queryset, per_page, **kwargs):
        known = self._search_count if self._search_count is not None else self.queue_alone_count()
        if known is None:
            known = self._drill_count
        return super().get_paginator(queryset, per_page, known_count=known, **kwargs)

    _search_count = None
    _search_scanning = None

    @cached_property
    def _drill_count(self):
        """A dashboard drill-down's number, which the dashboard has counted already."""
        filters = getattr(self, "filters", None)
        if filters is not None and not filters.is_valid():
            return None
        return drilldown.known_count(self.request.GET, self.request.user)

    def search_queryset(self, queryset):
        if not self.is_searching:
            return super().search_queryset(queryset)
        self._search_scanning = search_cases(queryset, self.search_query, scanning=True)
        return search_cases(queryset, self.search_query)

    def paginate_queryset(self, queryset, page_size):
        if self._drill_count == 0:  # the dashboard counted none: do not look through a year for them
            queryset = queryset.none()
        # A search is counted first, with the number of its matches in the whole table in the
        # same query: with many, its page is read in the list's order (search.condition).
        if self._search_scanning is not None:
            self._search_count, many = case_search.count_with_matches(queryset, self.search_query,
                                                                      CappedPaginator.CAP)
            if many:
                queryset = self._search_scanning
        return super().paginate_queryset(queryset, page_size)

    def queue_alone_count(self):
        """The queue's own count when nothing else narrows the list (see Queue.count_alone)."""
        if self.queue is None or scope.project_ids_for(self.request.user) is not None:
            return None
        if any(value for key, value in self.request.GET.items() if key not in NOT_FILTERS):
            return None
        return self.queue.count_alone(self.request.user, CappedPaginator.CAP)

    @cached_property
    def add_item_label(self):
        return gettext("登记工单")

    def get_paginate_by(self, queryset):
        size = super().get_paginate_by(queryset)
        if size is None:
            return None  # export
        requested = self.request.GET.get("per_page", "")
        return int(requested) if requested.isdigit() and int(requested) in PER_PAGE else PER_PAGE[0]

    def to_row_dict(self, item):
        return {field: CASE_EXPORT[field][1](item) for field in self.list_export}

    def stream_csv(self, queryset):
        yield "\ufeff"  # UTF-8 BOM: Excel on Chinese Windows otherwise shows mojibake
        yield from super().stream_csv(queryset)

    def get(self, request, *args, **kwargs):
        if self.is_export:
            # Straight to the file: the listing's context would load every row into memory.
            return self.export(self.get_queryset().select_related("building", "department", "contractor"))
        return super().get(request, *args, **kwargs)

    def export(self, queryset):
        if queryset[: EXPORT_LIMIT + 1].count() > EXPORT_LIMIT:
            messages.error(
                self.request,
                gettext("一次最多导出 %(limit)s 条工单，请先按项目、日期等条件筛选。") % {"limit": EXPORT_LIMIT},
            )
            params = self.request.GET.copy()
            params.pop("export", None)
            return HttpResponseRedirect(f"{self.request.path}?{params.urlencode()}")
        return self.as_spreadsheet(queryset.iterator(chunk_size=2000), self.request.GET["export"])


class CaseHistoryView(ScopedSnippetViewSet.history_view_class):
    # Wagtail's log of admin actions; the case page shows the full history (simple-history).
    any_permission_required = ["view"]


class CaseViewSet(ScopedSnippetViewSet):
    model = Case
    icon = "clipboard-list"
    menu_label = _("全部工单")
    menu_order = 10
    index_view_class = CaseIndexView
    inspect_view_class = CaseInspectView
    history_view_class = CaseHistoryView
    copy_view_enabled = False
    add_to_reference_index = False  # a million cases: no reference-index rows per save
    list_per_page = PER_PAGE[0]
    filterset_class = CaseFilterSet
    search_fields = ["number", "reporter_mobile", "description"]  # served by queues.search_cases
    list_export = list(CASE_EXPORT)
    export_headings = {field: heading for field, (heading, _value) in CASE_EXPORT.items()}
    export_filename = "cases"

    def get_queryset(self, request):
        # What the list shows, no more: beyond eight joins PostgreSQL stops reordering them
        # (join_collapse_limit) and a queue filtered through the clocks joined every case first.
        return Case.objects.select_related("category__parent", "project", "unit", "assignee")

    def get_permissions_to_register(self):
        # "change" and "delete" mean nothing here (see CasePermissionPolicy).
        return super().get_permissions_to_register().exclude(codename__in=["change_case", "delete_case"])

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(verb_url_name=self.get_url_name("act"),
                                               attachment_url_name=self.get_url_name("file"), **kwargs)

    @property
    def add_view(self):
        return self.construct_view(RegisterCaseView)

    @property
    def verb_view(self):
        return self.construct_view(CaseVerbView, **self.get_inspect_view_kwargs())

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("act/<int:pk>/<slug:verb>/", self.verb_view, name="act"),
            path("file/<int:attachment>/", CaseAttachmentView.as_view(), name="file"),
        ]

    def queue_url(self, queue):
        return f"{reverse(self.get_url_name('list'))}?queue={queue.slug}"


# --- Queues in the menu ------------------------------------------------------------------------


class QueueMenuItem(MenuItem):
    """A queue with its count. All queues are counted in one bounded query, cached per user
    (queues.menu_counts)."""

    def __init__(self, queue, url, order):
        super().__init__(queue.label, url, name=f"cases-{queue.slug}", icon_name=queue.icon, order=order)
        self.queue = queue

    def is_shown(self, request):
        return case_policy().user_has_permission(request.user, "view")

    def render_component(self, request):
        counts = getattr(request, "_case_queue_counts", None)
        if counts is None:
            counts = request._case_queue_counts = menu_counts(request.user)
        return LinkMenuItemComponent(
            self.name, queue_menu_label(self.queue, counts.get(self.queue.slug, 0)), self.url,
            icon_name=self.icon_name, classname=self.classname, attrs=self.attrs,
        )


# --- Categories and calendars ------------------------------------------------------------------


class SafeDeleteView(snippet_views.DeleteView):
    """A row still in use (a category on cases, a calendar on a policy) is refused with a
    message, not a 500."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ProtectedError:
            messages.error(
                self.request,
                gettext("“%(object)s”仍在使用中，不能删除；可以改为停用。") % {"object": self.object},
            )
            return HttpResponseRedirect(reverse(self.index_url_name))


class CategoryIndexView(snippet_views.IndexView):
    def get_base_queryset(self):
        # The tree: each top-level category followed by its children.
        kind_order = CaseWhen(
            *(When(kind=kind, then=Value(n)) for n, kind in enumerate(Kind.values)),
            output_field=IntegerField(),
        )
        return (
            super()
            .get_base_queryset()
            .select_related("parent")
            .order_by(
                kind_order,
                Coalesce("parent__sort_order", "sort_order"),
                Coalesce("parent__code", "code"),
                F("parent").asc(nulls_first=True),
                "sort_order",
                "code",
            )
        )


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = _("工单分类")
    menu_order = 30
    index_view_class = CategoryIndexView
    delete_view_class = SafeDeleteView
    list_display = ["__str__", "parent", "kind", "code", "emergency", "sort_order", "active"]
    list_filter = ["kind", "emergency", "active"]
    list_export = ["kind", "parent", "code", "name", "emergency", "sort_order", "active"]
    search_fields = ["name", "code"]
    search_backend_name = None
    list_per_page = 100
    copy_view_enabled = False
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("kind"), FieldPanel("parent")]),
            FieldRowPanel([FieldPanel("code"), FieldPanel("name")]),
            FieldRowPanel([FieldPanel("emergency"), FieldPanel("sort_order"), FieldPanel("active")]),
        ],
        base_form_class=CategoryForm,
    )


def _hours_summary(calendar):
    if calendar.always:
        return gettext("7×24 小时")
    labels = dict(WEEKDAYS)
    return "；".join(f"{labels[row.weekday]} {row.start:%H:%M}-{row.end:%H:%M}" for row in calendar.hours.all())


class WorkCalendarViewSet(SnippetViewSet):
    model = WorkCalendar
    icon = "calendar"
    menu_label = _("工作日历")
    menu_order = 40
    delete_view_class = SafeDeleteView
    list_display = ["name", "code", "always", Column("hours", label=_("工作时间"), accessor=lambda c: _hours_summary(c))]
    search_fields = ["name", "code"]
    search_backend_name = None
    inspect_view_enabled = True
    copy_view_enabled = False
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("code"), FieldPanel("name")]),
            FieldPanel("always"),
            MultiFieldPanel(
                [FieldRowPanel([FieldPanel(start), FieldPanel(end)]) for start, end in HOURS_FIELD_NAMES],
                heading=_("每周工作时间"),
                help_text=_("不上班的日子留空。法定节假日与调休在“节假日与调休”中维护。"),
            ),
        ],
        base_form_class=WorkCalendarForm,
    )

    def get_queryset(self, request):
        return WorkCalendar.objects.prefetch_related("hours")


class WorkCalendarDayViewSet(SnippetViewSet):
    model = WorkCalendarDay
    icon = "date"
    menu_label = _("节假日与调休")
    menu_order = 50
    list_display = ["date", "kind", "name"]
    list_filter = {"kind": ["exact"], "date": ["year"]}
    list_export = ["date", "kind", "name"]
    search_fields = ["name"]
    search_backend_name = None
    ordering = ["-date"]
    list_per_page = 50
    copy_view_enabled = False


# --- The menu ----------------------------------------------------------------------------------


class CaseDeskViewSetGroup(SnippetViewSetGroup):
    """客服工单: the queues, the full list, then the rules staff managers keep."""

    items = (CaseViewSet, CategoryViewSet, RoutingRuleViewSet, StandardReplyViewSet, SLAPolicyViewSet,
             WorkCalendarViewSet, WorkCalendarDayViewSet, DepositChargeViewSet, CompensationViewSet)
    menu_icon = "clipboard-list"
    menu_label = _("客服工单")
    menu_name = "cases"
    menu_order = 180

    def get_submenu_items(self):
        items = super().get_submenu_items()
        case_viewset = self.registerables[0]
        for n, queue in enumerate(QUEUES.values(), start=1):  # before the full list (order 10)
            items.append(QueueMenuItem(queue, case_viewset.queue_url(queue), order=n))
        return items
