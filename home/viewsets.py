"""Admin screens of the portal's snippets."""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localdate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from estates import scope
from estates.viewsets import ScopedSnippetViewSet, local_naive, scoped_projects

from .models import FAQ, AdverseFactor, OpenDayPage, OpenDayRegistration
from .opendays import CHANGE_PERMISSION, cancel, check_in


class FAQViewSet(SnippetViewSet):
    model = FAQ
    icon = "help"
    menu_label = _("常见问题")
    list_display = ["question", "category", "sort_order", "live"]
    list_filter = ["category", "live"]
    list_export = ["question", "category", "sort_order", "live"]
    search_fields = ["question"]
    search_backend_name = None  # ORM icontains: Chinese substrings match in the admin
    ordering = ["category", "sort_order"]


class AdverseFactorViewSet(SnippetViewSet):
    model = AdverseFactor
    icon = "warning"
    menu_label = _("不利因素公示")
    list_display = ["title", "project", "category", "inside_boundary", "distance_m", "live"]
    list_filter = ["project", "category", "inside_boundary", "live"]
    list_export = ["project", "category", "title", "inside_boundary", "distance_m", "direction", "description", "live"]
    search_fields = ["title", "description"]
    search_backend_name = None

    def get_queryset(self, request):
        return AdverseFactor.objects.select_related("project")


# --- Open-day registrations (工地开放日报名) ------------------------------------------------------
# Staff list, filter, export and check people in; registrations change only through the services
# in home.opendays, so the admin offers no add, edit, copy or delete. Lists, exports, filters,
# inspect, history and the actions below are narrowed to the user's projects (decision 3).

scope.register(OpenDayRegistration, "slot__page__project")


class RegistrationPermissionPolicy(ModelPermissionPolicy):
    """No add/edit/delete for anyone (not even superusers): the services are the only way a
    registration changes. The Django "change" permission means "may check people in and cancel
    for them"; "view" or "change" lets a user open the list."""

    def user_has_permission(self, user, action):
        if action == "view":
            return user.has_perm(self._get_permission_name("view")) or user.has_perm(
                self._get_permission_name("change")
            )
        return False


register_permission_policy(OpenDayRegistration, RegistrationPermissionPolicy(OpenDayRegistration))


def scoped_open_days(request):
    if request is None:
        return OpenDayPage.objects.none()
    queryset = OpenDayPage.objects.order_by("-first_date", "-pk")
    ids = scope.project_ids_for(request.user)
    return queryset if ids is None else queryset.filter(project_id__in=ids)


class OpenDayChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title}（{obj.first_date:%Y-%m-%d}）" if obj.first_date else obj.title


class OpenDayFilter(django_filters.ModelChoiceFilter):
    field_class = OpenDayChoiceField


class OpenDayRegistrationFilterSet(WagtailFilterSet):
    project = django_filters.ModelChoiceFilter(
        label=_("项目"), queryset=scoped_projects, field_name="slot__page__project"
    )
    open_day = OpenDayFilter(label=_("开放日活动"), queryset=scoped_open_days, field_name="slot__page")
    slot_date = django_filters.DateFromToRangeFilter(
        label=_("场次日期"), field_name="slot__date", widget=DateRangePickerWidget
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=OpenDayRegistration.Status.choices,
        widget=forms.RadioSelect,
        empty_label=_("全部"),
    )

    class Meta:
        model = OpenDayRegistration
        fields = ["project", "open_day", "slot_date", "status"]


def _slot_time(registration):
    slot = registration.slot
    return f"{slot.start:%H:%M}-{slot.end:%H:%M}"


#: Export columns: key → (Chinese heading, value). Times are Shanghai wall-clock time without a
#: zone, because XLSX cells carry none (STACK-NOTES: exports otherwise come out 8 h off).
REGISTRATION_EXPORT = {
    "code": (_("报名码"), lambda r: r.code),
    "project": (_("项目"), lambda r: r.slot.page.project.name),
    "open_day": (_("活动"), lambda r: r.slot.page.title),
    "slot_date": (_("场次日期"), lambda r: r.slot.date),
    "slot_time": (_("场次时间"), _slot_time),
    "place": (_("地点"), lambda r: r.slot.place or r.slot.page.place),
    "name": (_("姓名"), lambda r: r.name),
    "mobile": (_("手机号"), lambda r: r.mobile),
    "unit_or_contract": (_("房号或合同号"), lambda r: r.unit_or_contract),
    "party_size": (_("到场人数"), lambda r: r.party_size),
    "status": (_("状态"), lambda r: r.get_status_display()),
    "remark": (_("备注"), lambda r: r.remark),
    "created_at": (_("报名时间"), lambda r: local_naive(r.created_at)),
    "checked_in_at": (_("签到时间"), lambda r: local_naive(r.checked_in_at)),
    "cancelled_at": (_("取消时间"), lambda r: local_naive(r.cancelled_at)),
}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Owners type these fields: a leading = + - @ would run as a formula when a clerk opens
    the CSV in Excel (CSV injection). XLSX cells are written as text by Wagtail already."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class OpenDayRegistrationIndexView(ScopedSnippetViewSet.index_view_class):
    check_in_url_name = None
    cancel_url_name = None
    history_url_name = None
    custom_value_preprocess = {
        **ScopedSnippetViewSet.index_view_class.custom_value_preprocess,
        str: {"csv": csv_safe},
    }

    @cached_property
    def columns(self):
        # No bulk-action checkboxes: no bulk action applies to registrations.
        return [column for column in super().columns if not isinstance(column, BulkActionsCheckboxColumn)]

    @cached_property
    def can_act(self):
        return self.request.user.has_perm(CHANGE_PERMISSION)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        buttons.append(
            MenuItem(_("历史记录"), url=reverse(self.history_url_name, args=(instance.pk,)), icon_name="history", priority=30)
        )
        if not self.can_act or instance.status != OpenDayRegistration.Status.REGISTERED:
            return buttons
        if instance.slot.date <= localdate():
            url = reverse(self.check_in_url_name, args=(instance.pk,))
            # With JavaScript (the admin's normal case) one click POSTs; the link itself leads
            # to a confirmation page, so check-in never happens on a GET.
            buttons.append(
                ListingButton(
                    _("签到"),
                    url=url,
                    icon_name="tick",
                    attrs={
                        "data-controller": "w-action",
                        "data-action": "w-action#post",
                        "data-w-action-url-value": url,
                        "aria-label": gettext("为 %(name)s 签到") % {"name": instance.name},
                    },
                    priority=5,
                )
            )
        buttons.append(
            MenuItem(
                _("代为取消"),
                url=reverse(self.cancel_url_name, args=(instance.pk,)),
                icon_name="cross",
                priority=40,
            )
        )
        return buttons

    def to_row_dict(self, item):
        return {field: REGISTRATION_EXPORT[field][1](item) for field in self.list_export}

    def stream_csv(self, queryset):
        yield "\ufeff"  # UTF-8 BOM: Excel on Chinese Windows otherwise shows mojibake
        yield from super().stream_csv(queryset)


class OpenDayRegistrationHistoryView(ScopedSnippetViewSet.history_view_class):
    # Wagtail asks for add/change/delete, which nobody has here; the audit trail is for viewers.
    any_permission_required = ["view"]


class RegistrationActionView(WagtailAdminTemplateMixin, TemplateView):
    """A staff action on one registration. GET shows the registration and a confirmation form
    (works without JavaScript); POST calls the service and returns to the list."""

    template_name = "home/openday/admin/action.html"
    header_icon = "calendar-check"
    index_url_name = None
    action_url_name = None
    submit_label = ""
    form_class = None

    def dispatch(self, request, pk):
        queryset = scope.restrict(
            OpenDayRegistration.objects.select_related("slot", "slot__page", "slot__page__project"),
            request.user,
        )
        self.object = get_object_or_404(queryset, pk=pk)  # another project's row: 404
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, pk)

    def get_next_url(self):
        next_url = self.request.POST.get("next") or self.request.GET.get("next")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return next_url
        return reverse(self.index_url_name)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": OpenDayRegistration._meta.verbose_name_plural},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_page_subtitle(self):
        return f"{self.object.name} {self.object.code}"

    def get_form(self):
        if self.form_class is None:
            return None
        return self.form_class(self.request.POST if self.request.method == "POST" else None)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        registration = self.object
        context.update(
            registration=registration,
            slot=registration.slot,
            action_url=reverse(self.action_url_name, args=(registration.pk,)),
            next_url=self.get_next_url(),
            submit_label=self.submit_label,
            form=kwargs.get("form", self.get_form()),
        )
        return context

    def post(self, request, pk):
        form = self.get_form()
        if form is not None and not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            message = self.perform(form)
        except ValidationError as error:
            messages.warning(request, " ".join(error.messages))
        else:
            messages.success(request, message)
        return redirect(self.get_next_url())


class CheckInView(RegistrationActionView):
    page_title = gettext_lazy("签到")
    submit_label = gettext_lazy("确认签到")

    def perform(self, form):
        registration = check_in(self.object, self.request.user)
        return gettext("已签到：%(name)s，%(count)s 人。") % {"name": registration.name, "count": registration.party_size}


class StaffCancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消原因"),
        max_length=200,
        help_text=gettext_lazy("如：业主来电告知无法参加"),
    )


class StaffCancelView(RegistrationActionView):
    page_title = gettext_lazy("代业主取消报名")
    submit_label = gettext_lazy("确认取消报名")
    header_icon = "cross"
    form_class = StaffCancelForm

    def perform(self, form):
        registration, changed = cancel(
            self.object.code, self.object.mobile, user=self.request.user, reason=form.cleaned_data["reason"]
        )
        if not changed:
            return gettext("该报名此前已取消。")
        return gettext("已取消报名：%(name)s，释放 %(count)s 个名额。") % {
            "name": registration.name,
            "count": registration.party_size,
        }


class OpenDayRegistrationViewSet(ScopedSnippetViewSet):
    model = OpenDayRegistration
    icon = "calendar-check"
    menu_label = _("开放日报名")
    index_view_class = OpenDayRegistrationIndexView
    history_view_class = OpenDayRegistrationHistoryView
    list_display = [
        "name",
        "code",
        Column("slot", label=_("场次"), sort_key="slot__date"),
        "masked_mobile",
        "unit_or_contract",
        "party_size",
        "status",
        "created_at",
    ]
    filterset_class = OpenDayRegistrationFilterSet
    search_fields = ["code", "name", "mobile", "unit_or_contract"]
    ordering = ["-created_at"]
    list_export = list(REGISTRATION_EXPORT)
    export_headings = {field: heading for field, (heading, _value) in REGISTRATION_EXPORT.items()}
    export_filename = "openday-registrations"
    inspect_view_fields = [
        "code", "slot", "name", "mobile", "unit_or_contract", "party_size", "remark",
        "status", "created_at", "checked_in_at", "cancelled_at",
    ]
    copy_view_enabled = False

    def get_queryset(self, request):
        return OpenDayRegistration.objects.select_related("slot", "slot__page", "slot__page__project")

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            check_in_url_name=self.get_url_name("check_in"),
            cancel_url_name=self.get_url_name("staff_cancel"),
            history_url_name=self.get_url_name("history"),
            **kwargs,
        )

    def get_permissions_to_register(self):
        # Only "view" and "change" (= check in / cancel for the owner) mean anything here.
        return super().get_permissions_to_register().filter(
            codename__in=["view_opendayregistration", "change_opendayregistration"]
        )

    def _action_view(self, view_class, name):
        return view_class.as_view(
            index_url_name=self.get_url_name("list"),
            action_url_name=self.get_url_name(name),
            breadcrumbs_items=self.breadcrumbs_items,
        )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("check-in/<int:pk>/", self._action_view(CheckInView, "check_in"), name="check_in"),
            path("cancel/<int:pk>/", self._action_view(StaffCancelView, "staff_cancel"), name="staff_cancel"),
        ]


class PortalContentGroup(SnippetViewSetGroup):
    items = (FAQViewSet, AdverseFactorViewSet, OpenDayRegistrationViewSet)
    menu_icon = "doc-full"
    menu_label = _("门户内容")
    menu_name = "portal_content"
    menu_order = 150
