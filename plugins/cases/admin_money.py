"""Admin screens for money on cases: the warranty-deposit ledger (质保金台账), compensation
requests (赔付), and the contractor scorecard (施工单位考核). The lists are read-only — rows are
written only by plugins/cases/services.py from the case page — and narrowed to the user's
projects through the case."""

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import DateColumn, TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from estates import scope
from estates.models import Contractor, Project
from estates.viewsets import ScopedSnippetViewSet

from . import figures
from .models import Case, Compensation, DepositCharge


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Only "view" (with the model's view or add permission): add, change and delete happen
    through the services, never through a generic form."""

    def user_has_permission(self, user, action):
        if action != "view":
            return False
        name = self.model._meta.model_name
        return user.has_perm(f"cases.view_{name}") or user.has_perm(f"cases.add_{name}")


for _model in (DepositCharge, Compensation):
    register_permission_policy(_model, ReadOnlyPolicy(_model))


def case_column():
    """The case number, linking to the case page."""
    return TitleColumn("case", label=_("工单"), accessor="case.number",
                       get_url=lambda item: reverse("wagtailsnippets_cases_case:inspect", args=(item.case_id,)))


class ScorecardLinkMixin:
    @property
    def header_buttons(self):
        return [*super().header_buttons, HeaderButton(_("施工单位考核"), url=reverse("cases_scorecard"),
                                                      icon_name="table")]


class DepositChargeViewSet(ScopedSnippetViewSet):
    model = DepositCharge
    icon = "form"
    menu_label = _("质保金台账")
    menu_order = 60
    copy_view_enabled = False
    list_display = [
        DateColumn("recorded_at", label=_("登记时间"), sort_key="recorded_at"),
        "contractor", case_column(), "third_party", "amount", "evidence", "recorded_by",
    ]
    list_filter = ["contractor", "recorded_at"]
    list_export = ["recorded_at", "contractor", "case", "third_party", "amount", "evidence", "recorded_by"]
    search_fields = ["evidence", "case__number"]
    ordering = ["-recorded_at", "-pk"]

    def get_queryset(self, request):
        return DepositCharge.objects.select_related("contractor", "third_party", "case", "recorded_by")

    @property
    def index_view_class(self):
        return type("DepositChargeIndexView", (ScorecardLinkMixin, super().index_view_class), {})


class CompensationViewSet(ScopedSnippetViewSet):
    model = Compensation
    icon = "cog"
    menu_label = _("赔付")
    menu_order = 61
    copy_view_enabled = False
    list_display = [
        DateColumn("requested_at", label=_("申请时间"), sort_key="requested_at"),
        case_column(), "amount", "reason", "requested_by", "state", "decided_by",
    ]
    list_filter = ["state", "requested_at"]
    list_export = ["requested_at", "case", "amount", "reason", "requested_by", "state", "decided_by",
                   "decided_at", "decision_note"]
    search_fields = ["reason", "case__number"]
    ordering = ["-requested_at", "-pk"]

    def get_queryset(self, request):
        return Compensation.objects.select_related("case", "requested_by", "decided_by")


# --- Scorecard ----------------------------------------------------------------------------------


class ScorecardFilter(forms.Form):
    project = forms.ModelChoiceField(label=_("项目"), queryset=Project.objects.none(), required=False,
                                     empty_label=_("全部项目"))
    start = forms.DateField(label=_("登记日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = scope.projects_for(user)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data


def _day_start(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class ScorecardView(WagtailAdminTemplateMixin, TemplateView):
    """施工单位考核: per contractor, repairs whose one chance is over, first-time fixes and their
    rate, hand-overs to third parties, call-back satisfaction, the warranty deposit left and a
    reward/penalty suggestion (figures.suggestion); per category the same rate. Defaults to the
    last 365 days of registrations."""

    template_name = "cases/admin/scorecard.html"
    page_title = _("施工单位考核")
    header_icon = "table"

    def dispatch(self, request, *args, **kwargs):
        if not (request.user.has_perm("cases.view_depositcharge") or request.user.has_perm("cases.add_depositcharge")):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(),
                {"url": reverse("wagtailsnippets_cases_depositcharge:list"), "label": _("质保金台账")},
                {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        data = self.request.GET or {"start": today - dt.timedelta(days=365), "end": today}
        form = ScorecardFilter(data, user=self.request.user)
        cases = scope.restrict(Case.objects.all(), self.request.user)
        if form.is_valid():
            if form.cleaned_data["project"]:
                cases = cases.filter(project=form.cleaned_data["project"])
            if form.cleaned_data["start"]:
                cases = cases.filter(registered_at__gte=_day_start(form.cleaned_data["start"]))
            if form.cleaned_data["end"]:
                cases = cases.filter(registered_at__lt=_day_start(form.cleaned_data["end"] + dt.timedelta(days=1)))
            contractors = figures.first_time_fix_by_contractor(cases)
            balances = figures.deposit_balances(Contractor.objects.filter(pk__in=[row.key for row in contractors]))
            satisfaction = figures.callback_satisfaction_by_contractor(cases)
            context.update(
                contractors=[
                    {"row": row, "deposit": balances.get(row.key), "satisfaction": satisfaction.get(row.key),
                     "suggestion": figures.suggestion(row, satisfaction.get(row.key))}
                    for row in contractors
                ],
                categories=figures.first_time_fix_by_category(cases),
                thresholds=figures.suggestion_thresholds(),
            )
        context["filter_form"] = form
        return context


def scorecard_urls():
    return [path("cases/scorecard/", ScorecardView.as_view(), name="cases_scorecard")]
