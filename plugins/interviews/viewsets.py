"""Admin screens of owner interviews (业主访谈): the list with its filters, 我的访谈, export; logging
and editing an interview with its findings; the interview page, where a finding becomes a case
in one click.

Every list, export, filter choice, page, chooser and button is narrowed to the user's projects
(estates.scope, ARCHITECTURE.md decision 3) and, for staff who do not see everyone's interviews,
to their own (services.visible_interviews): anything else answers 404.
"""

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.widgets import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from accounts.models import User
from estates import scope
from estates.viewsets import ScopedChooserViewSet, ScopedFormMixin, ScopedSnippetViewSet
from home.viewsets import csv_safe

from . import services
from .forms import InterviewForm
from .models import Finding, Interview, Method, display_name

# --- Permissions -------------------------------------------------------------------------------


class InterviewPermissionPolicy(ModelPermissionPolicy):
    """"view": any interview permission (the list then holds only what services.visible_interviews
    allows); "change": logging one's own counts too (services.may_edit decides per interview)."""

    def user_has_permission(self, user, action):
        if action == "view":
            return any(user.has_perm(f"interviews.{codename}_interview") for codename in ("add", "change", "view"))
        if action == "change":
            return user.has_perm("interviews.change_interview") or user.has_perm("interviews.add_interview")
        return super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "change":
            return services.may_edit(user, instance)
        return self.user_has_permission(user, action)


register_permission_policy(Interview, InterviewPermissionPolicy(Interview))


def interview_policy():
    return policy_registry.get_by_type(Interview)


# --- Filters -----------------------------------------------------------------------------------


class InterviewFilterSet(WagtailFilterSet):
    mine = django_filters.ChoiceFilter(label=_("范围"), choices=[("1", _("我的访谈"))], empty_label=_("全部访谈"),
                                       method="filter_mine")
    project = django_filters.ChoiceFilter(label=_("项目"), field_name="project_id")
    interviewer = django_filters.ChoiceFilter(label=_("访谈人"), field_name="interviewer_id")
    year = django_filters.ChoiceFilter(label=_("年度"), method="filter_year")
    method = django_filters.ChoiceFilter(label=_("访谈方式"), choices=Method.choices)
    findings = django_filters.ChoiceFilter(
        label=_("发现的问题"), method="filter_findings",
        choices=[("open", _("有未转工单的问题")), ("raised", _("有已转工单的问题")), ("none", _("没有问题"))],
    )

    class Meta:
        model = Interview
        fields = ["mine", "project", "interviewer", "year", "method", "findings"]

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = request.user if request is not None else None
        if user is None:
            return
        visible = services.visible_interviews(user)
        # Each choice list is one query, over what the user may see: never another project's.
        self.filters["project"].extra["choices"] = [
            (str(pk), name) for pk, name in scope.projects_for(user).order_by("code").values_list("pk", "name")]
        people = User.objects.filter(pk__in=visible.order_by().values("interviewer_id")).order_by("username")
        self.filters["interviewer"].extra["choices"] = [(str(person.pk), display_name(person)) for person in people]
        years = sorted({day.year for day in visible.order_by().dates("date", "year")}, reverse=True)
        self.filters["year"].extra["choices"] = [(str(year), gettext("%(year)s 年") % {"year": year}) for year in years]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(interviewer_id=self.request.user.pk) if value == "1" else queryset

    def filter_year(self, queryset, name, value):
        if not str(value).isdigit():
            return queryset
        year = int(value)
        # A range, not __year: the (project, date) and (interviewer, date) indexes serve it.
        return queryset.filter(date__gte=f"{year:04d}-01-01", date__lt=f"{year + 1:04d}-01-01")

    def filter_findings(self, queryset, name, value):
        open_findings = Finding.objects.filter(interview=OuterRef("pk"), case_reference="")
        raised = Finding.objects.filter(interview=OuterRef("pk")).exclude(case_reference="")
        if value == "open":
            return queryset.filter(Exists(open_findings))
        if value == "raised":
            return queryset.filter(Exists(raised))
        if value == "none":
            return queryset.exclude(Exists(Finding.objects.filter(interview=OuterRef("pk"))))
        return queryset


# --- The list ----------------------------------------------------------------------------------


def _findings_text(interview):
    total, raised = interview.findings_total, interview.findings_raised
    if not total:
        return "—"
    if raised:
        return gettext("%(total)s 个（已转工单 %(raised)s）") % {"total": total, "raised": raised}
    return gettext("%(total)s 个") % {"total": total}


#: Export columns: key → (Chinese heading, value).
INTERVIEW_EXPORT = {
    "date": (_("访谈日期"), lambda i: i.date),
    "interviewer": (_("访谈人"), lambda i: display_name(i.interviewer)),
    "project": (_("项目"), lambda i: i.project.name),
    "unit": (_("房号"), lambda i: i.unit.label if i.unit_id else ""),
    "owner": (_("业主"), lambda i: i.owner.name if i.owner_id else ""),
    "method": (_("访谈方式"), lambda i: i.get_method_display()),
    "topics": (_("访谈主题"), lambda i: i.topics),
    "summary": (_("访谈纪要"), lambda i: i.summary),
    "findings": (_("发现的问题"), lambda i: "；".join(
        f"[{f.get_kind_display()}] {f.text}" + (f"（{f.case_reference}）" if f.case_reference else "")
        for f in i.findings.all())),
}

#: An export larger than this is refused with a message to narrow the filters.
EXPORT_LIMIT = 20000


class InterviewObjectMixin:
    """Any view of one interview: 404 unless the user may see it (services.visible_interviews)."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is not None and not services.visible_interviews(self.request.user).filter(pk=obj.pk).exists():
            raise Http404
        return obj


class InterviewIndexView(ScopedSnippetViewSet.index_view_class):
    custom_value_preprocess = {
        **ScopedSnippetViewSet.index_view_class.custom_value_preprocess,
        str: {"csv": csv_safe},
    }

    def get_base_queryset(self):
        return services.visible_interviews(self.request.user, super().get_base_queryset())

    def _get_title_column(self, field_name, column_class=TitleColumn, **kwargs):
        # The title opens the interview's page (its findings and their buttons), not the form.
        column_class = self._get_title_column_class(column_class)
        return self._get_custom_column(field_name, column_class, get_url=self.get_inspect_url,
                                       get_title_id=lambda instance: f"snippet_{instance.pk}_title", **kwargs)

    def get_edit_url(self, instance):
        if services.may_edit(self.request.user, instance):
            return super().get_edit_url(instance)
        return None

    def get_page_subtitle(self):
        return gettext("我的访谈") if self.request.GET.get("mine") == "1" else ""

    @cached_property
    def add_item_label(self):
        return gettext("登记访谈")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.request.GET.get("mine") != "1":
            buttons.append(HeaderButton(gettext("我的访谈"), url=f"{self.index_url}?mine=1", icon_name="user"))
        return buttons

    def to_row_dict(self, item):
        return {field: INTERVIEW_EXPORT[field][1](item) for field in self.list_export}

    def stream_csv(self, queryset):
        yield "\ufeff"  # UTF-8 BOM: Excel on Chinese Windows otherwise shows mojibake
        yield from super().stream_csv(queryset)

    def get(self, request, *args, **kwargs):
        if self.is_export:
            queryset = self.get_queryset()
            if queryset[: EXPORT_LIMIT + 1].count() > EXPORT_LIMIT:
                messages.error(request, gettext("一次最多导出 %(limit)s 条访谈，请先按项目、年度等条件筛选。") % {
                    "limit": EXPORT_LIMIT})
                params = request.GET.copy()
                params.pop("export", None)
                return HttpResponseRedirect(f"{request.path}?{params.urlencode()}")
            return self.as_spreadsheet(queryset.prefetch_related("findings"), request.GET["export"])
        return super().get(request, *args, **kwargs)


# --- Create, edit, delete ------------------------------------------------------------------------


class Status400OnErrors:
    """An invalid form answers 400 (ARCHITECTURE.md: bad input is a 4xx), keeping what was typed."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if response.status_code == 200:
            response.status_code = 400
        return response

    def get_success_url(self):
        # To the interview's page, where its findings can be raised as cases.
        return reverse(self.inspect_url_name, args=[self.object.pk])

    def get_success_buttons(self):
        return []

    inspect_url_name = None


class InterviewCreateView(Status400OnErrors, ScopedSnippetViewSet.add_view_class):
    def get_initial_form_instance(self):
        # The interviewer is whoever logs the interview.
        return Interview(interviewer=self.request.user)


class InterviewEditView(Status400OnErrors, InterviewObjectMixin, ScopedFormMixin, snippet_views.EditView):
    def get_object(self, queryset=None):
        obj = super().get_object(queryset)
        if not services.may_edit(self.request.user, obj):
            raise PermissionDenied
        return obj


class InterviewDeleteView(InterviewObjectMixin, snippet_views.DeleteView):
    """An interview with a finding raised as a case is kept: the case names that finding."""

    inspect_url_name = None

    def post(self, request, *args, **kwargs):
        raised = self.object.findings.exclude(case_reference="").values_list("case_reference", flat=True)
        if raised:
            messages.error(request, gettext("这次访谈的问题已转为工单（%(numbers)s），访谈记录不能删除。") % {
                "numbers": pgettext("list separator", "、").join(raised)})
            return redirect(reverse(self.inspect_url_name, args=[self.object.pk]))
        return super().post(request, *args, **kwargs)


class InterviewHistoryView(InterviewObjectMixin, snippet_views.HistoryView):
    any_permission_required = ["add", "change", "view"]


class InterviewUsageView(InterviewObjectMixin, snippet_views.UsageView):
    pass


# --- The interview's page and the one-click raise ------------------------------------------------


class InterviewInspectView(InterviewObjectMixin, snippet_views.InspectView):
    """The interview: who, where, what was said, and each finding with its case or a button
    that raises it (for staff who may; hidden, with a note, when the case desk is off)."""

    template_name = "interviews/admin/interview.html"
    page_title = _("访谈详情")
    raise_url_name = None
    inspect_url_name = None
    fields = ["date", "interviewer", "project", "unit", "owner", "method", "topics", "summary"]

    def get_edit_url(self):
        if services.may_edit(self.request.user, self.object):
            return super().get_edit_url()
        return None

    def get_page_subtitle(self):
        return str(self.object)

    def get_context_data(self, raise_error=None, raised_finding=None, **kwargs):
        context = super().get_context_data(**kwargs)
        interview = self.object
        may_raise = services.may_raise(self.request.user)
        case_desk = services.can_raise_findings()
        findings = list(interview.findings.select_related("raised_by").order_by("pk"))
        context.update(
            interview=interview,
            header=[
                (_("访谈日期"), f"{interview.date:%Y-%m-%d}"),
                (_("访谈人"), display_name(interview.interviewer)),
                (_("项目"), interview.project.name),
                (_("房号"), interview.unit.label if interview.unit_id else ""),
                (_("业主"), str(interview.owner) if interview.owner_id else ""),
                (_("访谈方式"), interview.get_method_display()),
                (_("访谈主题"), interview.topics),
                (_("访谈纪要"), interview.summary),
            ],
            findings=[{
                "finding": finding,
                "raised_by": display_name(finding.raised_by),
                "raise_url": (reverse(self.raise_url_name, args=[interview.pk, finding.pk])
                              if not finding.is_raised and may_raise and case_desk else ""),
                "error": raise_error if raised_finding == finding.pk else None,
            } for finding in findings],
            case_desk=case_desk,
            may_raise=may_raise,
            raise_error=raise_error,
        )
        return context


class RaiseFindingView(InterviewInspectView):
    """POST: raise one finding as a case (services.raise_finding), then back to the page with
    the case's number. A second raise of the same finding opens nothing and says which case it
    already is (409); a refusal re-renders the page with the reason (400)."""

    http_method_names = ["get", "post"]

    def get(self, request, *args, **kwargs):
        return redirect(reverse(self.inspect_url_name, args=[self.object.pk]))

    def post(self, request, *args, **kwargs):
        finding_pk = self.kwargs["finding"]
        if not self.object.findings.filter(pk=finding_pk).exists():
            raise Http404
        try:
            finding, raised_now = services.raise_finding(finding_pk, request.user)
        except services.InterviewNotFound:
            raise Http404 from None
        except ValidationError as error:  # InterviewRefused, or the case desk's refusal
            context = self.get_context_data(raise_error=" ".join(error.messages), raised_finding=finding_pk)
            return self.render_to_response(context, status=403 if error.code == "permission" else 400)
        if not raised_now:
            context = self.get_context_data(
                raise_error=gettext("该问题已于 %(when)s 转为工单 %(number)s，不会重复立案。") % {
                    "when": f"{localtime(finding.raised_at):%Y-%m-%d %H:%M}" if finding.raised_at else "",
                    "number": finding.case_reference},
                raised_finding=finding_pk,
            )
            return self.render_to_response(context, status=409)
        link = (format_html('<a href="{}">{}</a>', finding.case_url, finding.case_reference) if finding.case_url
                else finding.case_reference)
        messages.success(request, format_html(gettext("已转为工单 {}。"), link))
        return redirect(f"{reverse(self.inspect_url_name, args=[self.object.pk])}#finding-{finding.pk}")


# --- Chooser (Wagtail registers one for every snippet) -------------------------------------------


class VisibleChooseMixin:
    def get_object_list(self):
        return services.visible_interviews(self.request.user, super().get_object_list())


class VisibleChosenMixin:
    def get_object(self, pk):
        obj = super().get_object(pk)
        if not services.visible_interviews(self.request.user).filter(pk=obj.pk).exists():
            raise self.model_class.DoesNotExist
        return obj


class VisibleChosenMultipleMixin:
    def get_objects(self, pks):
        return services.visible_interviews(self.request.user, super().get_objects(pks))


def _on(view_class, *mixins):
    return type(f"Interview{view_class.__name__}", (*mixins, view_class), {})


class InterviewChooserViewSet(ScopedChooserViewSet):
    choose_view_class = _on(ScopedChooserViewSet.choose_view_class, VisibleChooseMixin)
    choose_results_view_class = _on(ScopedChooserViewSet.choose_results_view_class, VisibleChooseMixin)
    chosen_view_class = _on(ScopedChooserViewSet.chosen_view_class, VisibleChosenMixin)
    chosen_multiple_view_class = _on(snippet_chooser.SnippetChosenMultipleView, VisibleChosenMultipleMixin)


# --- The viewset -------------------------------------------------------------------------------


class InterviewViewSet(ScopedSnippetViewSet):
    model = Interview
    icon = "group"
    menu_label = _("全部访谈")
    menu_order = 20
    index_view_class = InterviewIndexView
    add_view_class = InterviewCreateView
    edit_view_class = InterviewEditView
    delete_view_class = InterviewDeleteView
    history_view_class = InterviewHistoryView
    usage_view_class = InterviewUsageView
    inspect_view_class = InterviewInspectView
    chooser_viewset_class = InterviewChooserViewSet
    copy_view_enabled = False
    filterset_class = InterviewFilterSet
    list_per_page = 50
    list_display = [
        "date",
        Column("interviewer", label=_("访谈人"), accessor=lambda i: display_name(i.interviewer)),
        Column("project", label=_("项目"), accessor=lambda i: i.project.name),
        Column("unit", label=_("房号"), accessor=lambda i: i.unit.label if i.unit_id else "—"),
        Column("owner", label=_("业主"), accessor=lambda i: i.owner.name if i.owner_id else "—"),
        "method",
        "topics",
        Column("findings", label=_("发现的问题"), accessor=_findings_text),
    ]
    list_export = list(INTERVIEW_EXPORT)
    export_headings = {field: heading for field, (heading, _value) in INTERVIEW_EXPORT.items()}
    export_filename = "interviews"
    search_fields = ["topics"]  # served by plugins.interviews.search (estates.search.SEARCHERS)
    ordering = ["-date", "-pk"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("project"), FieldPanel("date"), FieldPanel("method")]),
            FieldRowPanel([FieldPanel("unit"), FieldPanel("owner")]),
            FieldPanel("topics"),
            FieldPanel("summary"),
            InlinePanel(
                "findings", label=_("发现的问题"), heading=_("发现的问题"),
                panels=[FieldRowPanel([FieldPanel("kind"), FieldPanel("category_hint")]), FieldPanel("text")],
            ),
        ],
        base_form_class=InterviewForm,
    )

    def get_queryset(self, request):
        counts = (Finding.objects.filter(interview=OuterRef("pk")).order_by().values("interview")
                  .annotate(n=Count("pk")).values("n"))
        raised = (Finding.objects.filter(interview=OuterRef("pk")).exclude(case_reference="").order_by()
                  .values("interview").annotate(n=Count("pk")).values("n"))
        return Interview.objects.select_related("project", "unit", "owner", "interviewer").annotate(
            findings_total=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
            findings_raised=Coalesce(Subquery(raised, output_field=IntegerField()), 0),
        )

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(raise_url_name=self.get_url_name("raise"), **kwargs)

    @property
    def raise_view(self):
        return self.construct_view(RaiseFindingView, **self.get_inspect_view_kwargs())

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("raise/<int:pk>/<int:finding>/", self.raise_view, name="raise"),
        ]

    def mine_url(self):
        return f"{reverse(self.get_url_name('list'))}?mine=1"


class MyInterviewsMenuItem(MenuItem):
    """我的访谈: the list narrowed to the signed-in user's own interviews."""

    def is_shown(self, request):
        return interview_policy().user_has_permission(request.user, "view")


class InterviewViewSetGroup(SnippetViewSetGroup):
    """业主访谈: 我的访谈, then every interview the user may see."""

    items = (InterviewViewSet,)
    menu_icon = "group"
    menu_label = _("业主访谈")
    menu_name = "interviews"
    menu_order = 185  # below 客服工单 (180) and its import and call-back desk (181, 182)

    def get_submenu_items(self):
        items = super().get_submenu_items()
        viewset = self.registerables[0]
        items.append(MyInterviewsMenuItem(_("我的访谈"), viewset.mine_url(), name="interviews-mine",
                                          icon_name="user", order=10))
        return items
