"""Bulk actions on the case desk's admin lists.

批量派单: the cases ticked on the case list are dispatched to one department, contractor and/or
person. Each case goes through ``services.dispatch`` in its own transaction, so each gets its
own lock, timeline event and history row, and one refusal (a case a colleague closed in the
meantime) neither undoes nor holds up the others; the row locks are held one case at a time,
never for the whole batch. Cases that cannot be dispatched now are listed back by number and
left alone; cases outside the user's projects are only counted (their numbers are exactly what
scope hides).

Wagtail's own bulk delete is narrowed to the user's scope for the project-bound snippets, so
its confirmation page never names another project's case or SLA policy.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin import messages
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from estates import scope
from estates.models import Contractor, Department

from . import services
from .admin_sla import visible_policies
from .forms import DispatchForm, VerbForm, assignable_staff
from .models import Case, SLAPolicy
from .queues import search_cases
from .viewsets import CaseFilterSet

#: The most cases one bulk action takes: a page of the list at its largest (viewsets.PER_PAGE).
BULK_LIMIT = 100


def requested_ids(request):
    """The ticked ids (junk ignored), or "all" for "select all in listing"."""
    ids = request.GET.getlist("id")
    if "all" in ids:
        return "all"
    return {int(value) for value in ids if value.isdigit()}


def listed_cases(request):
    """The case list's cases under the filters and search it was showing ("select all")."""
    queryset = scope.restrict(Case.objects.all(), request.user)
    queryset = CaseFilterSet(request.GET, queryset=queryset, request=request).qs
    query = request.GET.get("q", "").strip()
    return search_cases(queryset, query) if query else queryset


# --- 批量派单 --------------------------------------------------------------------------------------


def contractors_serving(project_ids):
    """Active contractors serving every one of ``project_ids``."""
    if not project_ids:
        return Contractor.objects.none()
    return (
        Contractor.objects.filter(active=True, projects__in=project_ids)
        .annotate(_served=Count("projects", filter=Q(projects__in=project_ids), distinct=True))
        .filter(_served=len(project_ids))
        .order_by("name")
    )


def staff_serving(project_ids):
    """Staff who may handle cases and serve every one of ``project_ids``."""
    User = get_user_model()
    queryset = User.objects.all() if project_ids else User.objects.none()
    for project_id in project_ids:
        queryset = queryset.filter(pk__in=assignable_staff(project_id).values("pk"))
    return queryset.order_by("username")


class BulkDispatchForm(DispatchForm):
    """DispatchForm's fields and check, with options valid for every selected case: departments,
    and the contractors and staff serving all of the cases' projects."""

    def __init__(self, *args, project_ids, **kwargs):
        # Skip DispatchForm.__init__: its options are one case's.
        VerbForm.__init__(self, *args, case=None, **kwargs)
        self.fields["department"].queryset = Department.objects.order_by("code")
        self.fields["contractor"].queryset = contractors_serving(project_ids)
        self.fields["assignee"].queryset = staff_serving(project_ids)
        if len(project_ids) > 1:
            self.fields["contractor"].help_text = _("所选工单分属多个项目：只列出同时服务这些项目、合作中的单位")
            self.fields["assignee"].help_text = _("所选工单分属多个项目：只列出同时服务这些项目、可以处理工单的员工")


class BulkDispatchAction(SnippetBulkAction):
    display_name = _("批量派单")
    action_type = "dispatch"
    aria_label = _("批量派单所选工单")
    template_name = "cases/admin/bulk_dispatch.html"
    action_priority = 10
    models = [Case]
    form_class = BulkDispatchForm

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("cases.dispatch_case"):
            raise PermissionDenied
        if self.too_many:
            messages.error(request, gettext("一次最多批量派单 %(limit)s 条工单，请缩小筛选范围或分批选择。")
                           % {"limit": BULK_LIMIT})
            return redirect(self.next_url)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def selection(self):
        """(cases that can be dispatched, cases that cannot, how many ids were not found in the
        user's projects), or None when more than BULK_LIMIT were asked for."""
        ids = requested_ids(self.request)
        if ids == "all":
            ids = list(listed_cases(self.request).order_by().values_list("pk", flat=True)[: BULK_LIMIT + 1])
        if len(ids) > BULK_LIMIT:
            return None
        cases = list(
            scope.restrict(Case.objects.filter(pk__in=ids), self.request.user)
            .select_related("project").order_by("number")
        )
        ready = [case for case in cases if services.possible("dispatch", case)]
        refused = [case for case in cases if not services.possible("dispatch", case)]
        return ready, refused, len(ids) - len(cases)

    @property
    def too_many(self):
        return self.selection is None

    def get_actionable_objects(self):
        ready, refused, _missing = self.selection
        return ready, {"items_with_no_access": refused}

    def get_form_kwargs(self):
        ready, _refused, _missing = self.selection
        return {**super().get_form_kwargs(), "project_ids": sorted({case.project_id for case in ready})}

    def object_context(self, case):
        return {"item": case}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["missing"] = self.selection[2]
        return context

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        """Each case in its own transaction (services.dispatch); no transaction around the batch."""
        ready, refused, missing = self.selection
        request = self.request
        for hook in hooks.get_hooks("before_bulk_action"):
            result = hook(request, self.action_type, ready, self)
            if hasattr(result, "status_code"):
                return result
        data = form.cleaned_data
        done, failed = [], [(case.number, case.get_status_display()) for case in refused]
        for case in ready:
            try:
                services.dispatch(case, request.user, department=data["department"], contractor=data["contractor"],
                                  assignee=data["assignee"], note=data["note"])
            except services.CaseRefused as error:  # changed or left the user's scope meanwhile
                failed.append((case.number, " ".join(error.messages)))
            else:
                done.append(case)
        for hook in hooks.get_hooks("after_bulk_action"):
            result = hook(request, self.action_type, done, self)
            if hasattr(result, "status_code"):
                return result
        self.report(done, failed, missing)
        return redirect(self.next_url)

    def report(self, done, failed, missing):
        request = self.request
        if done:
            messages.success(request, gettext("已派单 %(count)s 条工单。") % {"count": len(done)})
        if failed:
            messages.warning(request, gettext("%(count)s 条工单未派单：%(cases)s。") % {
                "count": len(failed),
                "cases": "；".join(f"{number}（{reason}）" for number, reason in failed),
            })
        if missing:
            messages.warning(request, gettext("另有 %(count)s 条工单不存在或不在您负责的项目内，未处理。")
                             % {"count": missing})


# --- Bulk delete within scope ----------------------------------------------------------------------

#: model → the rows of it the user may see.
VISIBLE = {
    Case: lambda queryset, user: scope.restrict(queryset, user),
    SLAPolicy: visible_policies,
}


class ScopedDeleteBulkAction(DeleteBulkAction):
    """Wagtail's bulk delete, over the user's rows only: another project's case or policy is
    neither deleted nor named on the confirmation page (a case is never deleted at all:
    CasePermissionPolicy refuses it)."""

    models = list(VISIBLE)

    def get_queryset(self, model, object_ids):
        queryset = VISIBLE[model](model.objects.all(), self.request.user)
        if object_ids != "all":
            queryset = queryset.filter(pk__in=[pk for pk in object_ids if str(pk).isdigit()])
        found = list(queryset[:BULK_LIMIT])
        if not found:
            raise Http404
        return found

    def get_all_objects_in_listing_query(self, parent_id):
        return "all"


hooks.register("register_bulk_action", BulkDispatchAction)
# After Wagtail's own delete (order): the registry keeps the last class per model and type.
hooks.register("register_bulk_action", ScopedDeleteBulkAction, order=100)
