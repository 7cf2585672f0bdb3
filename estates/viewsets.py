"""Admin screens for the registry. Every view is narrowed by estates.scope (decision 3)."""

import django_filters
from django import forms
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.admin.widgets import Button, HeaderButton
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from . import scope
from .links_views import qr_buttons
from .models import (
    Building,
    Contractor,
    Department,
    HandoverStatus,
    Owner,
    Ownership,
    Project,
    StaffProfile,
    Trade,
    Unit,
)
from .normalize import MobileFormField
from .search import SEARCHERS


# --- Scope applied to every view class ---------------------------------------------------------


class ScopedObjectMixin:
    """Any view that loads one object: 404 when it lies outside the user's projects."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is not None and not scope.in_scope(obj, self.request.user):
            raise Http404
        return obj


class ScopedFormMixin:
    """Create/edit forms: project, building and unit choices only from the user's projects.

    A many-to-many field keeps the related rows the user cannot see (a contractor serving
    projects A and B, edited by A's staff, still serves B): scope hides them, never erases them.
    """

    def get_form(self, *args, **kwargs):
        form = super().get_form(*args, **kwargs)
        user = self.request.user
        self.hidden_related = {}
        for name, field in form.fields.items():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and queryset.model in scope.SCOPE_PATHS:
                field.queryset = scope.restrict(queryset, user)
                if isinstance(field, forms.ModelMultipleChoiceField) and form.instance.pk:
                    current = getattr(form.instance, name).all()
                    self.hidden_related[name] = list(
                        current.exclude(pk__in=field.queryset.values("pk"))
                    )
        return form

    def save_instance(self):
        instance = super().save_instance()
        for name, hidden in getattr(self, "hidden_related", {}).items():
            if hidden:
                getattr(instance, name).add(*hidden)
        return instance


class ScopedIndexMixin:
    def get_base_queryset(self):
        return scope.restrict(super().get_base_queryset(), self.request.user)

    def search_queryset(self, queryset):
        searcher = SEARCHERS.get(queryset.model)
        if searcher is None or not self.is_searching:
            return super().search_queryset(queryset)
        return searcher(queryset, self.search_query)


def _scoped(view_class, *mixins):
    return type(f"Scoped{view_class.__name__}", (*mixins, view_class), {})


class ImportButtonMixin:
    """Listing header: an "导入" button to the Excel/CSV import (estates.import_views), for staff
    who may add and change the listed model."""

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.user_has_permission("add") and self.user_has_permission("change"):
            buttons.append(HeaderButton(_("导入"), url=reverse("estates_import"), icon_name="upload"))
        return buttons


ImportableIndexView = _scoped(snippet_views.IndexView, ImportButtonMixin, ScopedIndexMixin)


def qr_code_buttons(obj, user):
    """The QR-code downloads of a unit or building (estates.links_views) as admin buttons."""
    return [
        Button(label, url=url, icon_name=icon, priority=90 + i)
        for i, (label, url, icon) in enumerate(qr_buttons(obj, user))
    ]


class QRCodeListButtonsMixin:
    """Units and buildings listing: the QR-code downloads in each row's "more" menu."""

    def get_list_more_buttons(self, instance):
        return [*super().get_list_more_buttons(instance), *qr_code_buttons(instance, self.request.user)]


class QRCodeHeaderButtonsMixin:
    """Unit and building inspect view: the QR-code downloads in the header's menu."""

    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons, *qr_code_buttons(self.object, self.request.user)]


QRInspectView = _scoped(snippet_views.InspectView, QRCodeHeaderButtonsMixin, ScopedObjectMixin)


class ScopedChooserFilterForm(BaseFilterForm):
    q = forms.CharField(label=_("搜索"), required=False)

    def filter(self, objects):
        query = self.cleaned_data.get("q")
        searcher = SEARCHERS.get(objects.model)
        if query:
            self.is_searching = True
            self.search_query = query
            if searcher is None:
                raise LookupError(f"{objects.model.__name__} has no searcher in estates.search.SEARCHERS")
            return searcher(objects, query)
        return objects


def _current_owners_of_unit(owners, unit_id):
    return owners.filter(ownerships__unit=unit_id, ownerships__end__isnull=True)


def _owners_in_project(owners, project_id):
    return owners.filter(pk__in=Ownership.objects.filter(unit__project=project_id).values("owner_id"))


#: {model: {URL parameter: narrowing}}: a form whose chooser widget links another of its fields
#: (``linked_fields``) opens the chooser narrowed to it: units of the chosen project, the
#: current owners of the chosen unit. A value that is not a whole number is ignored.
LINKED_FILTERS = {
    Unit: {"project": lambda units, pk: units.filter(project=pk)},
    Owner: {"unit": _current_owners_of_unit, "project": _owners_in_project},
}


class ScopedChooseMixin:
    filter_form_class = ScopedChooserFilterForm

    def get_object_list(self):
        return scope.restrict(super().get_object_list(), self.request.user)

    def filter_object_list(self, objects):
        objects = super().filter_object_list(objects)
        for parameter, narrow in LINKED_FILTERS.get(objects.model, {}).items():
            value = self.request.GET.get(parameter, "")
            if value.isascii() and value.isdigit():
                objects = narrow(objects, int(value))
        return objects


class ScopedChosenMixin:
    def get_object(self, pk):
        obj = super().get_object(pk)
        if not scope.in_scope(obj, self.request.user):
            raise self.model_class.DoesNotExist
        return obj


class ScopedChosenMultipleMixin:
    def get_objects(self, pks):
        return scope.restrict(super().get_objects(pks), self.request.user)


class NoCreationMixin:
    """The registry's choosers offer no "create" tab; Wagtail still routes its URL, whose POST
    would fail on the missing form. Answer 404 instead."""

    def dispatch(self, request, *args, **kwargs):
        if self.get_creation_form_class() is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class ScopedChooserViewSet(snippet_chooser.SnippetChooserViewSet):
    # The linked fields' values stay on the modal's search and pagination links.
    preserve_url_parameters = [*snippet_chooser.SnippetChooserViewSet.preserve_url_parameters, "project", "unit"]
    create_view_class = _scoped(snippet_chooser.SnippetCreateView, NoCreationMixin)
    choose_view_class = _scoped(snippet_chooser.ChooseView, ScopedChooseMixin)
    choose_results_view_class = _scoped(snippet_chooser.ChooseResultsView, ScopedChooseMixin)
    chosen_view_class = _scoped(snippet_chooser.SnippetChosenView, ScopedChosenMixin)
    chosen_multiple_view_class = _scoped(
        snippet_chooser.SnippetChosenMultipleView, ScopedChosenMultipleMixin
    )


class ScopedSnippetViewSet(SnippetViewSet):
    """A SnippetViewSet whose list, export, filters, inspect, edit, delete, history, usage and
    chooser all honour estates.scope."""

    index_view_class = _scoped(snippet_views.IndexView, ScopedIndexMixin)
    add_view_class = _scoped(snippet_views.CreateView, ScopedFormMixin)
    copy_view_class = _scoped(snippet_views.CopyView, ScopedObjectMixin, ScopedFormMixin)
    edit_view_class = _scoped(snippet_views.EditView, ScopedObjectMixin, ScopedFormMixin)
    delete_view_class = _scoped(snippet_views.DeleteView, ScopedObjectMixin)
    usage_view_class = _scoped(snippet_views.UsageView, ScopedObjectMixin)
    history_view_class = _scoped(snippet_views.HistoryView, ScopedObjectMixin)
    inspect_view_class = _scoped(snippet_views.InspectView, ScopedObjectMixin)
    chooser_viewset_class = ScopedChooserViewSet
    inspect_view_enabled = True
    search_backend_name = None  # ORM look-ups; Chinese substrings match (STACK-NOTES §1)
    list_per_page = 50


def scoped_projects(request):
    if request is None:
        return Project.objects.none()
    return scope.projects_for(request.user)


def scoped_buildings(request):
    if request is None:
        return Building.objects.none()
    return scope.restrict(Building.objects.select_related("project"), request.user)


def local_naive(value):
    """XLSX cells carry no zone; write Shanghai wall-clock time (STACK-NOTES: exports 8 h off)."""
    return localtime(value).replace(tzinfo=None) if value else None


# --- Projects and buildings ---------------------------------------------------------------------


class ProjectViewSet(ScopedSnippetViewSet):
    model = Project
    icon = "home"
    menu_label = _("项目")
    list_display = ["code", "name", "city", "hotline"]
    list_export = ["code", "name", "city", "address", "hotline"]
    search_fields = ["code", "name", "city"]
    panels = [
        FieldRowPanel([FieldPanel("code"), FieldPanel("name")]),
        FieldRowPanel([FieldPanel("city"), FieldPanel("hotline")]),
        FieldPanel("address"),
        FieldPanel("service_plan"),
    ]


class BuildingFilterSet(WagtailFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=scoped_projects)

    class Meta:
        model = Building
        fields = ["project"]


class BuildingViewSet(ScopedSnippetViewSet):
    model = Building
    icon = "table"
    menu_label = _("楼栋")
    index_view_class = _scoped(snippet_views.IndexView, QRCodeListButtonsMixin, ScopedIndexMixin)
    inspect_view_class = QRInspectView
    list_display = ["name", "code", "project", "floors"]
    list_export = ["project", "code", "name", "floors"]
    filterset_class = BuildingFilterSet
    search_fields = ["name", "code"]
    panels = [FieldPanel("project"), FieldRowPanel([FieldPanel("code"), FieldPanel("name")]), FieldPanel("floors")]

    def get_queryset(self, request):
        return Building.objects.select_related("project")


# --- Units --------------------------------------------------------------------------------------


class UnitFilterSet(WagtailFilterSet):
    project = django_filters.ModelChoiceFilter(label=_("项目"), queryset=scoped_projects)
    building = django_filters.ModelChoiceFilter(label=_("楼栋"), queryset=scoped_buildings)
    delivery_batch = django_filters.CharFilter(label=_("交付批次"), lookup_expr="exact")
    handover_status = django_filters.ChoiceFilter(
        label=_("交付状态"), choices=HandoverStatus.choices
    )

    class Meta:
        model = Unit
        fields = ["project", "building", "delivery_batch", "handover_status"]


class UnitViewSet(ScopedSnippetViewSet):
    model = Unit
    index_view_class = _scoped(ImportableIndexView, QRCodeListButtonsMixin)
    inspect_view_class = QRInspectView
    icon = "key"
    menu_label = _("房号")
    list_display = ["label", "project", "building", "floor", "area", "layout", "delivery_batch", "handover_status", "handover_date"]
    list_export = ["project", "building", "label", "entrance", "floor", "number", "area", "layout", "delivery_batch", "get_handover_status_display", "handover_date"]
    export_headings = {"project": _("项目"), "building": _("楼栋"), "label": _("房号全称"), "get_handover_status_display": _("交付状态")}
    filterset_class = UnitFilterSet
    search_fields = ["label"]  # served by estates.search.search_units
    ordering = ["project", "label"]
    panels = [
        FieldPanel("building"),
        FieldRowPanel([FieldPanel("entrance"), FieldPanel("floor"), FieldPanel("number")]),
        FieldRowPanel([FieldPanel("area"), FieldPanel("layout")]),
        MultiFieldPanel(
            [FieldPanel("delivery_batch"), FieldPanel("handover_status"), FieldPanel("handover_date")],
            heading=_("交付"),
        ),
    ]

    def get_queryset(self, request):
        return Unit.objects.select_related("project", "building", "building__project")


# --- Owners -------------------------------------------------------------------------------------


class OwnerForm(WagtailAdminModelForm):
    """Takes the mobile however staff type it and stores the 11 digits (decision 5)."""

    mobile = MobileFormField(label=_("手机号"))


class OwnerFilterSet(WagtailFilterSet):
    project = django_filters.ModelChoiceFilter(
        label=_("项目"), queryset=scoped_projects, method="filter_project"
    )

    class Meta:
        model = Owner
        fields = ["project"]

    def filter_project(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(ownerships__unit__project=value).distinct()


class OwnerViewSet(ScopedSnippetViewSet):
    model = Owner
    index_view_class = ImportableIndexView
    icon = "user"
    menu_label = _("业主")
    list_display = ["name", "masked_mobile", "id_last4", "unit_labels"]
    list_export = ["name", "mobile", "id_last4", "email", "unit_labels", "created_at_local"]
    export_headings = {"unit_labels": _("房号"), "created_at_local": _("创建时间"), "masked_mobile": _("手机号")}
    filterset_class = OwnerFilterSet
    search_fields = ["name", "mobile"]  # served by estates.search.search_owners
    inspect_view_fields = ["name", "mobile", "id_last4", "email", "remark", "created_at"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("mobile")]),
            FieldPanel("email"),
            FieldPanel("remark"),
        ],
        base_form_class=OwnerForm,
    )

    def get_queryset(self, request):
        return Owner.objects.prefetch_related("ownerships__unit")


class OwnershipFilterSet(WagtailFilterSet):
    project = django_filters.ModelChoiceFilter(
        label=_("项目"), queryset=scoped_projects, field_name="unit__project"
    )
    current = django_filters.BooleanFilter(label=_("当前"), field_name="end", lookup_expr="isnull")

    class Meta:
        model = Ownership
        fields = ["project", "current", "is_primary"]


class OwnershipViewSet(ScopedSnippetViewSet):
    model = Ownership
    icon = "link"
    menu_label = _("产权关系")
    list_display = ["owner", "unit", "start", "end", "is_primary", "is_current"]
    list_export = ["owner", "unit", "start", "end", "is_primary"]
    filterset_class = OwnershipFilterSet
    panels = [
        FieldRowPanel([FieldPanel("owner"), FieldPanel("unit")]),
        FieldRowPanel([FieldPanel("start"), FieldPanel("end"), FieldPanel("is_primary")]),
    ]

    def get_queryset(self, request):
        return Ownership.objects.select_related("owner", "unit")


# --- Contractors, departments, trades, staff ----------------------------------------------------


class ContractorFilterSet(WagtailFilterSet):
    projects = django_filters.ModelChoiceFilter(label=_("服务项目"), queryset=scoped_projects)
    trades = django_filters.ModelChoiceFilter(label=_("工种"), queryset=Trade.objects.all())

    class Meta:
        model = Contractor
        fields = ["projects", "trades", "active"]


class ContractorForm(WagtailAdminModelForm):
    contact_mobile = MobileFormField(label=_("联系手机"), required=False)


class ContractorViewSet(ScopedSnippetViewSet):
    model = Contractor
    index_view_class = ImportableIndexView
    icon = "group"
    menu_label = _("施工单位")
    list_display = ["name", "trade_names", "contact_name", "contact_mobile", "warranty_deposit", "active"]
    list_export = ["name", "trade_names", "contact_name", "contact_mobile", "warranty_deposit", "project_names", "active"]
    export_headings = {"trade_names": _("工种"), "project_names": _("服务项目")}
    filterset_class = ContractorFilterSet
    search_fields = ["name", "contact_name", "contact_mobile"]
    edit_handler = ObjectList(
        [
            FieldPanel("name"),
            FieldPanel("trades", widget=forms.CheckboxSelectMultiple),
            FieldRowPanel([FieldPanel("contact_name"), FieldPanel("contact_mobile")]),
            FieldRowPanel([FieldPanel("warranty_deposit"), FieldPanel("active")]),
            FieldPanel("projects", widget=forms.CheckboxSelectMultiple),
            FieldPanel("remark"),
        ],
        base_form_class=ContractorForm,
    )

    def get_queryset(self, request):
        return Contractor.objects.prefetch_related("trades", "projects")


class DepartmentViewSet(SnippetViewSet):
    model = Department
    icon = "cogs"
    menu_label = _("部门")
    list_display = ["code", "name", "phone"]
    list_export = ["code", "name", "phone", "description"]
    search_fields = ["code", "name"]
    search_backend_name = None
    inspect_view_enabled = True


class TradeViewSet(SnippetViewSet):
    model = Trade
    icon = "tag"
    menu_label = _("工种")
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    search_backend_name = None


class UnrestrictedStaffPolicy(ModelPermissionPolicy):
    """Who serves which project is decided only by staff who themselves serve every project:
    otherwise a limited member could widen their own scope."""

    def user_has_permission(self, user, action):
        return super().user_has_permission(user, action) and scope.is_unrestricted(user)


register_permission_policy(StaffProfile, UnrestrictedStaffPolicy(StaffProfile))


class StaffProfileViewSet(ModelViewSet):
    model = StaffProfile
    icon = "user"
    menu_label = _("员工服务范围")
    add_to_settings_menu = True
    list_display = ["user", "department", "all_projects", "supervisor"]
    list_filter = ["department", "all_projects"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    search_backend_name = None
    inspect_view_enabled = True
    form_fields = ["user", "all_projects", "projects", "department", "supervisor", "mobile"]


class EstatesViewSetGroup(SnippetViewSetGroup):
    items = (
        ProjectViewSet,
        BuildingViewSet,
        UnitViewSet,
        OwnerViewSet,
        OwnershipViewSet,
        ContractorViewSet,
        DepartmentViewSet,
        TradeViewSet,
    )
    menu_icon = "home"
    menu_label = _("楼盘档案")
    menu_name = "estates"
    menu_order = 200
