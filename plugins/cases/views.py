"""The case desk's admin pages beyond the generic listing: registering a case, the case page
(header, verbs, timeline, history, the unit's other cases) and the verb endpoints.

Nothing here sets a field of a case: registering calls ``services.register`` and each verb
button posts to ``CaseVerbView``, which calls the matching service. A refusal (wrong state, no
permission, missing reason) comes back as an error message on the case page, never a 500.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from estates import scope
from estates.viewsets import ScopedSnippetViewSet
from notifications.services import absolute_url

from . import services, worklinks
from .forms import (
    AddNoteForm,
    AttachForm,
    CompensationDecisionForm,
    CompensationForm,
    DepositChargeForm,
    TextForm,
    CallbackForm,
    CancelForm,
    CompleteForm,
    ContactForm,
    DispatchForm,
    NoteForm,
    PauseForm,
    ReasonForm,
    RegisterCaseForm,
    SignOffForm,
    ThirdPartyForm,
    WorkLinkForm,
)
from .models import Case, CaseAttachment, PauseReason
from .replies import REPLY_VERBS, replies_for

# --- The verbs the case page offers ---------------------------------------------------------------


@dataclass(frozen=True)
class Verb:
    """One verb as the case page offers it; whether it is possible now is the services' call
    (``services.possible``), and the service stays the judge when it is posted."""

    name: str
    permission: str
    form_class: type
    perform: object  # (case, user, cleaned_data) -> None
    success: str
    danger: bool = False
    # Beyond state and permission: (case, user) -> bool (a compensation someone else asked for).
    also: object = None

    @property
    def label(self):
        return services.VERB_NAMES.get(self.name, self.name)

    def available(self, case, user):
        return (user.has_perm(f"cases.{self.permission}") and services.possible(self.name, case)
                and (self.also is None or self.also(case, user)))


def pending_compensations(case):
    """The case's compensations, loaded once per request (the page lists them too)."""
    if not hasattr(case, "_compensations"):
        case._compensations = list(case.compensations.select_related("requested_by", "decided_by")
                                   .order_by("requested_at", "pk"))
    return case._compensations


def _decidable(case, user):
    return any(item.state == "requested" and item.requested_by_id != user.pk for item in pending_compensations(case))


VERBS = {
    verb.name: verb
    for verb in (
        Verb("accept", "handle_case", NoteForm,
             lambda case, user, data: services.accept(case, user, note=data["note"]),
             _("已受理。")),
        Verb("dispatch", "dispatch_case", DispatchForm,
             lambda case, user, data: services.dispatch(
                 case, user, department=data["department"], contractor=data["contractor"],
                 assignee=data["assignee"], note=data["note"]),
             _("已派单。")),
        Verb("contact", "handle_case", ContactForm,
             lambda case, user, data: services.record_contact(
                 case, user, reached=data["reached"], note=data["note"],
                 visible_to_owner=data["visible_to_owner"]),
             _("联系情况已记录。")),
        Verb("start", "handle_case", NoteForm,
             lambda case, user, data: services.start(case, user, note=data["note"]),
             _("已开始处理。")),
        Verb("pause", "handle_case", PauseForm,
             lambda case, user, data: services.pause(case, user, data["reason"], note=data["note"]),
             _("已暂停。")),
        Verb("resume", "handle_case", NoteForm,
             lambda case, user, data: services.resume(case, user, note=data["note"]),
             _("已恢复处理。")),
        Verb("on_site", "handle_case", NoteForm,
             lambda case, user, data: services.on_site(case, user, note=data["note"]),
             _("已记录到场。")),
        Verb("department_reply", "handle_case", TextForm,
             lambda case, user, data: services.department_reply(case, user, data["text"]),
             _("部门回复已记录。")),
        Verb("answer", "handle_case", TextForm,
             lambda case, user, data: services.answer(case, user, data["text"]),
             _("已答复业主。")),
        Verb("complete", "handle_case", CompleteForm,
             lambda case, user, data: services.complete(case, user, data["result"], photos=data["photos"]),
             _("已完工，等待业主验收。")),
        Verb("sign_off", "callback_case", SignOffForm,
             lambda case, user, data: services.sign_off(
                 case, user, accepted=data["accepted"], reason=data["reason"]),
             _("验收结果已记录。")),
        Verb("callback", "callback_case", CallbackForm,
             lambda case, user, data: services.callback(
                 case, user, reached=data["reached"], score=data["score"], remark=data["remark"]),
             _("回访已记录。")),
        Verb("close", "close_case", NoteForm,
             lambda case, user, data: services.close(case, user, note=data["note"]),
             _("工单已关闭。")),
        Verb("third_party", "manage_case", ThirdPartyForm,
             lambda case, user, data: services.hand_to_third_party(case, user, data["contractor"], data["reason"]),
             _("已转第三方施工单位。")),
        Verb("recheck", "manage_case", TextForm,
             lambda case, user, data: services.recheck(case, user, data["text"]),
             _("现场复核已记录。")),
        Verb("deposit_charge", "add_depositcharge", DepositChargeForm,
             lambda case, user, data: services.charge_deposit(
                 case, user, amount=data["amount"], evidence=data["evidence"], uploads=data["files"]),
             _("质保金扣款已登记。")),
        Verb("compensation", "add_compensation", CompensationForm,
             lambda case, user, data: services.request_compensation(
                 case, user, amount=data["amount"], reason=data["reason"]),
             _("赔付申请已提交，等待另一人审批。")),
        Verb("compensation_decision", "approve_compensation", CompensationDecisionForm,
             lambda case, user, data: services.decide_compensation(
                 data["compensation"], user, approve=data["approve"], note=data["note"]),
             _("赔付审批已记录。"), also=_decidable),
        Verb("work_link", "dispatch_case", WorkLinkForm,
             lambda case, user, data: services.work_link(case, user, renew=data["renew"], reason=data["reason"]),
             _("派工链接已处理。")),
        Verb("escalate", "manage_case", ReasonForm,
             lambda case, user, data: services.escalate(case, user, data["reason"]),
             _("已升级。"), danger=True),
        Verb("reopen", "manage_case", ReasonForm,
             lambda case, user, data: services.reopen(case, user, data["reason"]),
             _("工单已重开。")),
        Verb("cancel", "close_case", CancelForm,
             lambda case, user, data: services.cancel(case, user, data["reason"]),
             _("工单已取消。"), danger=True),
        Verb("note", "handle_case", AddNoteForm,
             lambda case, user, data: services.add_note(
                 case, user, data["text"], visible_to_owner=data["visible_to_owner"]),
             _("备注已添加。")),
        Verb("attach", "add_caseattachment", AttachForm,
             lambda case, user, data: services.attach(
                 case, user, data["files"], purpose=data["purpose"],
                 visible_to_owner=data["visible_to_owner"], note=data["note"]),
             _("附件已上传。")),
    )
}

#: Related objects loaded with the case in one query.
CASE_RELATED = (
    "category__parent", "project", "building__project", "unit", "owner", "department", "contractor",
    "original_contractor", "assignee", "registered_by", "repeat_of",
)

#: The case page's header, in order.
HEADER_FIELDS = (
    "number", "kind", "channel", "category", "priority", "complaint_grade", "status", "pause_reason",
    "project", "building", "unit", "owner", "reporter_name", "reporter_mobile", "description",
    "department", "contractor", "original_contractor", "assignee", "escalation_level", "repeat_of",
    "source", "registered_at", "registered_by", "dispatched_at", "completed_at", "closed_at",
)

#: How many of the latest timeline events the case page shows before "show all".
TIMELINE_SHOWN = 50

#: How many of the case's contractor links the page lists.
WORK_LINKS_SHOWN = 5

#: How many of the unit's other cases the page lists.
OTHER_CASES_LIMIT = 20


def _local(value):
    return localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _display(field, value):
    """A header or history value as text: choices by label, times in Shanghai time."""
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField):
        return _local(value)
    return str(value)


def _name(obj):
    if hasattr(obj, "get_username"):
        return obj.get_full_name() or obj.get_username()
    return str(obj)


def _pause_reason_label(code):
    return str(PauseReason(code).label) if code in PauseReason.values else code


class CaseHistory:
    """The django-simple-history rows of a case, oldest first, each with the fields it changed
    (foreign keys by name). One query for the rows; names of related rows the case no longer
    points to are read once per model."""

    SKIP = {"id", "history_id", "history_date", "history_change_reason", "history_type", "history_user",
            "history_user_id", "paused_from", "search_words"}

    def __init__(self, case):
        self.case = case
        self.rows = list(case.history.select_related("history_user").order_by("history_date", "history_id"))
        self.fields = [f for f in Case._meta.concrete_fields if f.attname not in self.SKIP]

    #: Related models whose names need another row.
    NAME_RELATED = {"building": ("project",), "category": ("parent",)}

    def _names(self, wanted):
        """{(model, pk): name} for the related rows in ``wanted``: from the case when it still
        points to them, otherwise one query per model."""
        names, missing = {}, {}
        for model, pk in wanted:
            current = next(
                (getattr(self.case, f.name) for f in self.fields
                 if f.is_relation and f.related_model is model and getattr(self.case, f.attname) == pk),
                None,
            )
            if current is not None:
                names[(model, pk)] = _name(current)
            else:
                missing.setdefault(model, set()).add(pk)
        for model, pks in missing.items():
            related = self.NAME_RELATED.get(model._meta.model_name, ())
            for pk, obj in model._default_manager.select_related(*related).in_bulk(pks).items():
                names[(model, pk)] = _name(obj)
        return names

    def entries(self):
        entries, wanted = [], set()
        previous = None
        for row in self.rows:
            changes = []
            if previous is not None:
                for field in self.fields:
                    old, new = getattr(previous, field.attname), getattr(row, field.attname)
                    if old != new:
                        changes.append((field, new))
                        if field.is_relation and new is not None:
                            wanted.add((field.related_model, new))
            entries.append((row, changes))
            previous = row
        names = self._names(wanted) if wanted else {}
        result = []
        for row, changes in entries:
            shown = []
            for field, value in changes:
                if field.is_relation:
                    text = names.get((field.related_model, value), "") if value is not None else ""
                elif field.name == "pause_reason":
                    text = _pause_reason_label(value)
                else:
                    text = _display(field, value)
                shown.append({"label": field.verbose_name, "value": text or "—"})
            result.append({
                "when": row.history_date,
                "user": row.history_user,
                "reason": row.history_change_reason or "",
                "type": row.get_history_type_display(),
                "changes": shown,
            })
        return result


class CaseObjectMixin:
    """Loads the case with its related rows in one query, within the user's projects (404
    otherwise; estates.scope, decision 3)."""

    def get_object(self, queryset=None):
        cases = scope.restrict(Case.objects.select_related(*CASE_RELATED), self.request.user)
        return get_object_or_404(cases, pk=self.kwargs["pk"])


class CaseInspectView(CaseObjectMixin, ScopedSnippetViewSet.inspect_view_class):
    """The case page."""

    template_name = "cases/admin/case.html"
    page_title = _("工单详情")
    verb_url_name = None
    inspect_url_name = None
    attachment_url_name = None
    fields = list(HEADER_FIELDS)

    def get_page_subtitle(self):
        return self.object.number

    def header_fields(self):
        case = self.object
        rows = []
        for name in HEADER_FIELDS:
            field = Case._meta.get_field(name)
            if name == "complaint_grade" and case.kind != "complaint":
                continue
            if field.is_relation:
                value = getattr(case, name)
                text = _name(value) if value is not None else ""
            elif name == "pause_reason":
                text = _pause_reason_label(case.pause_reason)
            else:
                text = _display(field, getattr(case, name))
            if name == "escalation_level" and not case.escalation_level:
                continue
            if not text and name not in ("status", "reporter_name"):
                continue
            rows.append({"name": name, "label": field.verbose_name, "value": text})
        return rows

    def timeline(self):
        """The latest TIMELINE_SHOWN events, oldest first (all with ?timeline=all): a case
        chased for months keeps its page fast; the full record is one click away."""
        events = self.object.events.select_related("actor_user").order_by("-created_at", "-pk")
        if self.request.GET.get("timeline") != "all":
            events = events[: TIMELINE_SHOWN + 1]
        events = list(events)
        self.timeline_cut = self.request.GET.get("timeline") != "all" and len(events) > TIMELINE_SHOWN
        names = {}  # the verbs' labels, translated once per request
        rows = []
        for event in reversed(events[:TIMELINE_SHOWN] if self.timeline_cut else events):
            if event.verb not in names:
                names[event.verb] = str(services.VERB_NAMES.get(event.verb, event.verb))
            rows.append({
                "event": event,
                "verb": names[event.verb],
                "actor": event.actor_name or (event.actor_user and event.actor_user.get_username()) or "",
            })
        return rows

    def clocks(self):
        """The case's SLA clocks with their state and the wall-clock time left (None when the
        SLA engine is not installed)."""
        if not hasattr(Case, "clocks"):
            return None
        now = timezone.now()
        rows = []
        for clock in self.object.clocks.order_by("started_at", "pk"):
            late = clock.breached_at is not None or clock.due_at < now
            if clock.stopped_at is not None:
                state = _("超时后完成") if clock.breached_at else _("按时完成")
                left = ""
            elif clock.paused_since is not None:
                state, left = _("暂停中"), ""
            elif late:
                state = _("已超时")
                left = gettext("超时 %(time)s") % {"time": timesince(clock.due_at, now)} if clock.due_at < now else ""
            else:
                state = _("进行中")
                left = gettext("剩余 %(time)s") % {"time": timeuntil(clock.due_at, now)}
            rows.append({"clock": clock, "state": state, "left": left, "late": late})
        return rows

    def other_cases(self):
        case = self.object
        if not case.unit_id:
            return []
        cases = scope.restrict(
            Case.objects.filter(unit_id=case.unit_id).exclude(pk=case.pk).select_related("category__parent"),
            self.request.user,
        ).order_by("-registered_at", "-pk")
        return list(cases[: OTHER_CASES_LIMIT + 1])

    def verb_forms(self, bound=None):
        """[{verb, form, url}] for the verbs this user may do on this case now."""
        case, user = self.object, self.request.user
        forms = []
        for verb in VERBS.values():
            if not verb.available(case, user):
                continue
            if bound is not None and bound.prefix == verb.name:
                form = bound
            else:
                form = verb.form_class(case=case, prefix=verb.name)
            forms.append({"verb": verb, "form": form,
                          "url": reverse(self.verb_url_name, args=(case.pk, verb.name))})
        return forms

    def get_context_data(self, bound_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        other = self.other_cases()
        verb_forms = self.verb_forms(bound_form)
        context.update(
            case=self.object,
            header=self.header_fields(),
            timeline=self.timeline(),
            timeline_cut=getattr(self, "timeline_cut", False),
            history=CaseHistory(self.object).entries(),
            clocks=self.clocks(),
            other_cases=[
                {"case": other_case, "url": reverse(self.inspect_url_name, args=(other_case.pk,))}
                for other_case in other[:OTHER_CASES_LIMIT]
            ],
            more_other_cases=len(other) > OTHER_CASES_LIMIT,
            verb_forms=verb_forms,
            attachments=[
                {"attachment": item, "url": reverse(self.attachment_url_name, args=(item.pk,))}
                for item in self.object.attachments.order_by("created_at", "pk")
            ],
            compensations=pending_compensations(self.object),
            work_links=self.work_links(),
            # One query, only when a form that takes a standard reply is on offer.
            standard_replies=replies_for(self.object) if any(
                item["verb"].name in REPLY_VERBS for item in verb_forms) else [],
            standard_reply_verbs=REPLY_VERBS,
            # Charges exist only once the work went to a third party: no query before that.
            deposit_charges=list(self.object.deposit_charges.select_related("contractor", "recorded_by")
                                 .order_by("recorded_at", "pk")) if self.object.original_contractor_id else [],
        )
        return context

    def get_fields_context(self):
        return []  # the template renders ``header``

    def work_links(self):
        """The case's latest contractor links, with the live one's address for a dispatcher to
        pass on (WeChat, a call) — only to staff who may dispatch: the link acts on the case."""
        if self.object.contractor_id is None and self.object.original_contractor_id is None:
            return []
        links = list(self.object.work_links.select_related("contractor", "created_by")[:WORK_LINKS_SHOWN])
        may_share = self.request.user.has_perm("cases.dispatch_case")
        return [{"link": link, "live": link.live(),
                 "url": absolute_url(worklinks.path_for(link)) if may_share and link.live() else ""}
                for link in links]


class CaseVerbView(CaseInspectView):
    """POST /…/case/act/<pk>/<verb>/: call the verb's service, then back to the case page with
    a success or error message. Invalid input re-renders the case page with the form's errors
    (400). GET only leads back to the case page."""

    http_method_names = ["get", "post"]

    @cached_property
    def verb(self):
        verb = VERBS.get(self.kwargs["verb"])
        if verb is None:
            raise Http404
        return verb

    def case_url(self):
        return reverse(self.inspect_url_name, args=(self.object.pk,))

    def get(self, request, *args, **kwargs):
        self.verb  # noqa: B018 (an unknown verb is a 404)
        return redirect(self.case_url())

    def post(self, request, *args, **kwargs):
        verb = self.verb
        form = verb.form_class(request.POST, request.FILES, case=self.object, prefix=verb.name)
        if not form.is_valid():
            if not verb.available(self.object, request.user):
                # Not on offer (state or permission): say so, change nothing.
                return self._refused(gettext("当前不能执行“%(verb)s”。") % {"verb": verb.label})
            messages.error(request, gettext("请检查填写的内容。"))
            return self.render_to_response(self.get_context_data(bound_form=form), status=400)
        try:
            verb.perform(self.object, request.user, form.cleaned_data)
        except services.CaseNotFound:
            raise Http404 from None
        except ValidationError as error:  # CaseRefused, or a field the service checks itself
            return self._refused(" ".join(error.messages))
        messages.success(request, verb.success)
        return redirect(self.case_url())

    def _refused(self, message):
        messages.error(self.request, message)
        return redirect(self.case_url())


class CaseAttachmentView(View):
    """GET /…/case/file/<attachment>/: a case's photo or PDF, to staff who may see the case (404
    otherwise). Served from the private storage, never from MEDIA_URL."""

    def get(self, request, attachment):
        from .viewsets import case_policy

        if not case_policy().user_has_permission(request.user, "view"):
            raise PermissionDenied
        cases = scope.restrict(Case.objects.all(), request.user)
        return serve_attachment(get_object_or_404(CaseAttachment.objects.filter(case__in=cases), pk=attachment))


def serve_attachment(attachment):
    """The response for a case file whose reader the caller has checked: images inline, other
    files as downloads, never sniffed, cached by the browser only."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=attachment.content_type,
                            as_attachment=not attachment.is_image, filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- Register -----------------------------------------------------------------------------------


class RegisterCaseView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """登记工单: a form whose submission calls ``services.register``."""

    model = Case
    permission_required = "add"
    template_name = "cases/admin/register.html"
    page_title = _("登记工单")
    header_icon = "plus"
    index_url_name = None
    inspect_url_name = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_form_class(self):
        return RegisterCaseForm

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": Case._meta.verbose_name_plural},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            action_url=self.request.path,
            submit_button_label=gettext("登记"),
            submit_button_active_label=gettext("正在登记…"),
            media=form.media,
        )
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            case = services.register(
                self.request.user,
                kind=data["kind"], channel=data["channel"], category=data["category"],
                priority=data["priority"], complaint_grade=data["complaint_grade"],
                project=data["project"], building=data["building"], unit=data["unit"], owner=data["owner"],
                reporter_name=data["reporter_name"], reporter_mobile=data["reporter_mobile"],
                description=data["description"],
            )
        except ValidationError as error:
            field = RegisterCaseForm.ERROR_FIELDS.get(getattr(error, "code", None))
            form.add_error(field, error.messages)
            return self.form_invalid(form)
        messages.success(self.request, gettext("已登记工单 %(number)s。") % {"number": case.number})
        return redirect(reverse(self.inspect_url_name, args=(case.pk,)))

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
