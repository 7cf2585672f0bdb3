"""The call-back desk (回访台): the call centre's queue of due call-backs and a one-screen form
per case.

A call-back is due while its case is in a state that takes a call-back
(``services.STATES["callback"]``) and its call-back clock runs (started when a repair is
completed or a complaint closed; stopped by a scored call-back, a reopen, or the last failed
attempt — services.callback). The list is ordered by that clock's due time, overdue first, and
narrowed to the user's projects (estates.scope). The form only collects input: the call-back
itself is ``services.callback`` as the staff user, and after it the desk moves on to the next due
call-back. Both screens need ``cases.callback_case``; the menu item "回访台" shows the number due,
counted with the case desk's queues in one cached query (queues.MENU_COUNTS).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from estates import scope

from . import queues, services
from .admin_pages import TitledPage
from .forms import CallbackForm
from .models import Case, CaseClock, CaseEvent, ClockKind, Kind
from .replies import replies_for
from .viewsets import QueueMenuItem

PERMISSION = "cases.callback_case"

#: Rows a page of the list.
PER_PAGE = 25
#: Owner-visible timeline events and earlier call-backs the form shows (the latest ones).
TIMELINE_SHOWN = 10
CALLBACKS_SHOWN = 20

#: Related rows the list and the form show with each case.
CASE_RELATED = ("project", "unit", "category__parent", "contractor", "original_contractor")


# --- Which call-backs are due ---------------------------------------------------------------------


def _running_callback_clocks():
    """Running call-back clocks of cases in a state that takes a call-back."""
    return CaseClock.objects.filter(clock=ClockKind.CALLBACK, stopped_at__isnull=True,
                                    case__status__in=services.STATES["callback"])


def _due_for(user):
    clocks = _running_callback_clocks()
    project_ids = scope.project_ids_for(user)
    return clocks if project_ids is None else clocks.filter(case__project_id__in=project_ids)


def due_callbacks(user):
    """The call-back clocks due for ``user``'s projects, due first (overdue at the top), with
    ``attempts``: this round's attempts that did not reach the owner."""
    attempts = (
        CaseEvent.objects.filter(case_id=OuterRef("case_id"), verb="callback", data__reached=False,
                                 created_at__gte=OuterRef("started_at"))
        .order_by().values("case_id").annotate(n=Count("pk")).values("n")
    )
    return (_due_for(user).annotate(attempts=Coalesce(Subquery(attempts, output_field=IntegerField()), 0))
            .order_by("due_at", "pk"))


def _due_condition(user):
    running = CaseClock.objects.filter(case=OuterRef("pk"), clock=ClockKind.CALLBACK, stopped_at__isnull=True)
    return Q(status__in=services.STATES["callback"]) & Q(Exists(running))


def _due_case_ids(user):
    return _running_callback_clocks().order_by().values("case_id")


#: The count on the menu item (queues.menu_counts counts it with the queues, in one query).
DUE = queues.Queue("callbacks", _("回访台"), "mobile-alt", _due_condition, case_ids=_due_case_ids)
queues.MENU_COUNTS[DUE.slug] = DUE


def next_due(user, clock):
    """The case of the due call-back after ``clock`` in the list's order, or None."""
    later = Q(due_at__gt=clock.due_at) | Q(due_at=clock.due_at, pk__gt=clock.pk)
    return (_due_for(user).filter(later).exclude(case_id=clock.case_id)
            .order_by("due_at", "pk").values_list("case_id", flat=True).first())


# --- Screens --------------------------------------------------------------------------------------


class CallbackDeskMixin(WagtailAdminTemplateMixin):
    header_icon = "mobile-alt"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _done_at(case):
    """When the work the call-back asks about ended: a repair's completion, else the closing."""
    return case.completed_at if case.kind == Kind.REPAIR else case.closed_at


class DueCallbacksView(CallbackDeskMixin, TitledPage, TemplateView):
    """回访台: the due call-backs of the user's projects, a page at a time."""

    template_name = "cases/admin/callback_desk.html"
    page_title = _("回访台")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        clocks = due_callbacks(self.request.user).select_related(*(f"case__{name}" for name in CASE_RELATED))
        paginator = Paginator(clocks, PER_PAGE)
        page = paginator.get_page(self.request.GET.get("p"))
        now = timezone.now()
        context.update(
            page=page,
            elided_page_range=paginator.get_elided_page_range(page.number),
            rows=[{
                "clock": clock, "case": clock.case, "done_at": _done_at(clock.case), "overdue": clock.due_at < now,
                "form_url": reverse("cases_callback", args=(clock.case_id,)),
                "case_url": reverse("wagtailsnippets_cases_case:inspect", args=(clock.case_id,)),
            } for clock in page],
        )
        return context


#: The same words as services.callback's refusal.
SCORE_MESSAGE = _("请给出 1 到 5 分的满意度评分。")


class DeskCallbackForm(CallbackForm):
    """The case page's call-back form with "reached" as an explicit yes / no and the score
    required when reached."""

    reached = forms.TypedChoiceField(
        label=_("是否接通"), choices=[("yes", _("已接通")), ("no", _("未接通"))], coerce=lambda value: value == "yes",
        widget=forms.RadioSelect, initial="yes",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].help_text = gettext("已接通时必填；低于 %(low)s 分将重开工单并升级") % {
            "low": services.LOW_SCORE}
        self.fields["score"].error_messages["invalid_choice"] = SCORE_MESSAGE

    def clean(self):
        data = super().clean()
        if data.get("reached") and data.get("score") is None and "score" not in self.errors:
            self.add_error("score", SCORE_MESSAGE)
        return data


class CallbackView(CallbackDeskMixin, TemplateView):
    """One call-back on one screen: what the owner reported and what was done, the owner's
    timeline in short, earlier attempts, and the form. A case of another project is a 404; a
    case that no longer needs a call-back says so instead of offering the form."""

    template_name = "cases/admin/callback_form.html"
    page_title = _("回访")

    @cached_property
    def case(self):
        cases = scope.restrict(Case.objects.select_related(*CASE_RELATED), self.request.user)
        return get_object_or_404(cases, pk=self.kwargs["pk"])

    @cached_property
    def clock(self):
        """The running call-back clock, when the case still needs its call-back; else None."""
        if self.case.status not in services.STATES["callback"]:
            return None
        return self.case.clocks.filter(clock=ClockKind.CALLBACK, stopped_at__isnull=True).first()

    def get_page_subtitle(self):
        return self.case.number

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": reverse("cases_callbacks"), "label": _("回访台")},
                {"url": "", "label": self.case.number}]

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self._form()))

    def post(self, request, *args, **kwargs):
        if self.clock is None:
            return self.render_to_response(self.get_context_data(), status=400)
        form = self._form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        try:
            result = services.callback(self.case, request.user, reached=data["reached"], score=data["score"],
                                       remark=data["remark"])
        except services.CaseNotFound:
            raise Http404 from None
        except ValidationError as error:  # CaseRefused, or a field the service checks itself
            form.add_error(None, error.messages)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(request, self._done_message(data["reached"], result))
        following = next_due(request.user, self.clock)
        return redirect(reverse("cases_callback", args=(following,)) if following else reverse("cases_callbacks"))

    def _form(self, data=None):
        return DeskCallbackForm(data, case=self.case) if self.clock is not None else None

    def _done_message(self, reached, result):
        number = self.case.number
        if reached:
            if result.status not in services.STATES["callback"]:  # a low score reopened it
                return gettext("工单 %(number)s 回访已记录：低于 %(low)s 分，工单已重开并升级。") % {
                    "number": number, "low": services.LOW_SCORE}
            return gettext("工单 %(number)s 回访已记录。") % {"number": number}
        if result.data.get("given_up"):
            return gettext("工单 %(number)s：三次回访未接通，已结束回访。") % {"number": number}
        return gettext("工单 %(number)s：未接通，已记录第 %(attempt)s 次回访。") % {
            "number": number, "attempt": result.data.get("attempt")}

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        case = self.case
        events = case.events.order_by("-created_at", "-pk")
        owner_timeline = list(events.filter(visible_to_owner=True)[:TIMELINE_SHOWN])[::-1]
        result = events.filter(verb__in=("complete", "answer")).exclude(text="").first()
        callbacks = list(events.filter(verb="callback").select_related("actor_user")[:CALLBACKS_SHOWN])
        started = self.clock.started_at if self.clock is not None else None
        context.update(
            case=case,
            clock=self.clock,
            form=form,
            overdue=self.clock is not None and self.clock.due_at < timezone.now(),
            done_at=_done_at(case),
            result=result,
            owner_timeline=[{"event": event, "verb": services.VERB_NAMES.get(event.verb, event.verb)}
                            for event in owner_timeline],
            callbacks=[{"event": event, "this_round": started is not None and event.created_at >= started}
                       for event in callbacks],
            attempts=sum(1 for event in callbacks if event.data.get("reached") is False
                         and started is not None and event.created_at >= started),
            case_url=reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,)),
            list_url=reverse("cases_callbacks"),
            # The standard-reply picker (templates/cases/admin/_standard_replies.html) for the remark.
            standard_replies=replies_for(case) if form is not None else [],
            standard_reply_verbs=("callback",),
        )
        if self.clock is None:
            context["not_needed"] = gettext("工单 %(number)s 当前不需要回访（已回访、已结束回访或工单状态已变化）。") % {
                "number": case.number}
        return context


# --- Wiring (wagtail_hooks.py) ---------------------------------------------------------------------


def callback_desk_urls():
    return [
        path("cases/callbacks/", DueCallbacksView.as_view(), name="cases_callbacks"),
        path("cases/callbacks/<int:pk>/", CallbackView.as_view(), name="cases_callback"),
    ]


class DueCallbacksMenuItem(QueueMenuItem):
    """回访台 with the number of due call-backs (queues.menu_counts), for staff who call back."""

    def is_shown(self, request):
        return request.user.has_perm(PERMISSION)


def callback_desk_menu_item():
    # Below 客服工单 (order 180) and 导入历史工单 (181).
    return DueCallbacksMenuItem(DUE, reverse_lazy("cases_callbacks"), order=182)
