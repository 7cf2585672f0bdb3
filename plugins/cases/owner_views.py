"""The owner's case page (/cases/c/<number>/): where the case stands, what the owner is promised
next, the owner-visible timeline with its photos, and — for a signed-in owner's own case —
message, sign-off and rating. Following a case without signing in: /cases/follow/.

Every page and action opens the case through owner_access.visible_case (404 for anyone else).
Actions go through services.py like any other; refusals show the page again with the message
and a 4xx, keeping what the owner typed."""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from estates.models import Owner
from owners.ratelimits import limited, too_many

from . import owner_access, progress, services
from .models import ActorType, Case, CaseAttachment, CaseClock, CaseEvent, Status
from .public_forms import FollowForm, MessageForm, RateForm, SignOffForm
from .views import serve_attachment

CASE_TEMPLATE = "cases/public/case.html"
FOLLOW_TEMPLATE = "cases/public/follow.html"


def _case_queryset():
    return Case.objects.select_related("project", "building", "unit", "category")


def case_url(case):
    return reverse("cases:owner_case", args=[case.number])


# --- Reading ------------------------------------------------------------------------------------
def timeline(case, viewer=ActorType.OWNER):
    """The owner-visible events, oldest first, each with its owner-visible files: two queries."""
    events = list(CaseEvent.objects.filter(case=case, visible_to_owner=True).order_by("created_at", "pk"))
    files = {item.pk: item for item in CaseAttachment.objects.filter(case=case, visible_to_owner=True)}
    entries = []
    for event in events:
        ids = event.data.get("attachments") or [] if isinstance(event.data, dict) else []
        entries.append({
            "event": event,
            "who": progress.actor_label(event.actor_type, event.actor_name, viewer),
            "what": _verb_label(event),
            "files": [files[pk] for pk in ids if pk in files],
        })
    return entries


def _verb_label(event):
    if event.verb == "callback" and isinstance(event.data, dict) and event.data.get("by_owner"):
        return _("评价")  # the owner's own rating, not a call from the call centre
    return services.VERB_NAMES.get(event.verb, event.get_type_display())


def _running(case):
    return dict(CaseClock.objects.filter(case=case, stopped_at__isnull=True, paused_since__isnull=True)
                .values_list("clock", "due_at"))


def _context(request, case, owns, **forms):
    may_rate = owns and case.status in services.STATES["callback"] and not services.scored_this_round(case)
    return {
        "case": case,
        "owns": owns,
        "steps": progress.steps(case),
        "promise": progress.promise(_running(case)) if case.status in services.OPEN else "",
        "entries": timeline(case),
        "may_sign_off": owns and case.status == Status.COMPLETED,
        "may_rate": may_rate,
        "may_message": owns and case.status != Status.CANCELLED,
        "message_form": forms.get("message_form") or MessageForm(),
        "sign_off_form": forms.get("sign_off_form") or SignOffForm(),
        "rate_form": forms.get("rate_form") or RateForm(),
        "sign_in_url": f"{reverse('owners_sign_in')}?{urlencode({'next': case_url(case)})}",
    }


@never_cache
def case_page(request, number):
    case, owns = owner_access.visible_case(request, number, _case_queryset())
    return render(request, CASE_TEMPLATE, _context(request, case, owns))


@never_cache
def case_file(request, number, attachment):
    case, _owns = owner_access.visible_case(request, number)
    return serve_attachment(get_object_or_404(CaseAttachment, pk=attachment, case=case, visible_to_owner=True))


# --- Acting -------------------------------------------------------------------------------------
def _owner_actor(request, case):
    name = (Owner.objects.filter(pk__in=request.owner.owner_ids).order_by("pk").values_list("name", flat=True).first()
            or _("业主"))
    return services.Actor.owner(name)


def _act(request, number, form_class, form_name, perform, done_message):
    """POST an owner action: the owner's own case only; the form checked; the verb done; back
    to the case page. Refused: the page again with the message (400), or 403 for a visitor who
    follows the case without signing in."""
    case, owns = owner_access.visible_case(request, number, _case_queryset())
    if not owns:
        response = render(request, CASE_TEMPLATE, {
            **_context(request, case, owns), "error": _("请先用手机号登录，才能对工单进行操作。")}, status=403)
        return response
    form = form_class(request.POST, request.FILES)
    refused = []
    if form.is_valid():
        try:
            perform(case, _owner_actor(request, case), form.cleaned_data)
        except ValidationError as error:
            refused = error.messages  # shown at the top: the form may not be offered any more
        else:
            messages.success(request, done_message)
            return redirect(case_url(case))
    case.refresh_from_db()
    context = _context(request, case, owns, **{form_name: form})
    return render(request, CASE_TEMPLATE, {**context, "refused": refused}, status=400)


@require_POST
def message(request, number):
    return _act(request, number, MessageForm, "message_form",
                lambda case, actor, data: services.owner_message(case, actor, data["text"], data["photos"]),
                _("留言已发送，客服会尽快回复。"))


@require_POST
def sign_off(request, number):
    return _act(request, number, SignOffForm, "sign_off_form",
                lambda case, actor, data: services.sign_off(case, actor, accepted=data["accepted"],
                                                            reason=data["reason"], photos=data["photos"]),
                _("验收结果已提交，谢谢！"))


@require_POST
def rate(request, number):
    return _act(request, number, RateForm, "rate_form",
                lambda case, actor, data: services.rate(case, actor, score=data["score"], comment=data["comment"]),
                _("感谢您的评价！"))


# --- Following without signing in ----------------------------------------------------------------
@never_cache
def follow(request):
    """工单号 + 报事手机号后 4 位 → the case page, for this browser session."""
    form = FollowForm(request.POST or None, initial={"number": request.GET.get("number", "")[:24]})
    if request.method != "POST":
        return render(request, FOLLOW_TEMPLATE, {"form": form})
    if limited(request, "cases.follow.ip", "OWNER_RATE_FOLLOW_IP"):
        return too_many(request, form, FOLLOW_TEMPLATE, _("操作过于频繁，请稍后再试。"))
    if not form.is_valid():
        return render(request, FOLLOW_TEMPLATE, {"form": form}, status=400)
    number, last4 = form.cleaned_data["number"], form.cleaned_data["last4"]
    if limited(request, "cases.follow.number", "OWNER_RATE_FOLLOW_NUMBER", lambda group, request: number):
        return too_many(request, form, FOLLOW_TEMPLATE, _("该工单的查询次数过多，请一小时后再试，或致电客服。"))
    case = Case.objects.filter(number=number).only("pk", "number", "reporter_mobile").first()
    if case is None or not case.reporter_mobile.endswith(last4):
        form.add_error(None, _("工单号或手机号后 4 位不正确，请核对后再试。"))
        return render(request, FOLLOW_TEMPLATE, {"form": form}, status=400)
    owner_access.follow(request, case)
    return redirect(case_url(case))


@never_cache
def follow_link(request, token):
    """The thank-you page's "查看进度" link (24 hours): follow without typing anything."""
    try:
        pk = owner_access.case_from_follow_token(token)
    except signing.SignatureExpired:
        return redirect(f"{reverse('cases:follow')}?{urlencode({'expired': 1})}")
    except signing.BadSignature:
        raise Http404 from None
    case = get_object_or_404(Case.objects.only("pk", "number"), pk=pk)
    owner_access.follow(request, case)
    return redirect(case_url(case))
