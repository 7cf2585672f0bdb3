"""The contractor's work page (/cases/w/<token>/): the job, the unit, the owner's number masked
until "call" is pressed, and the three buttons the 30-minute rule and the one chance are
measured by — contacted the owner, on site, done (with before/after photos). Each action is a
verb in services.py done as that contractor, so it lands on the timeline in their name.

The token opens only its own case (worklinks.open_link); anything wrong with it — forged,
altered, revoked, expired, the case moved on — is a page that says so, with a 4xx."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from estates.normalize import mask_mobile

from . import services, worklinks
from .models import ActorType, CaseAttachment, CaseEvent, WorkLink
from .owner_views import timeline
from .public_forms import DoneForm
from .views import serve_attachment

TEMPLATE = "cases/public/work.html"
REFUSED_TEMPLATE = "cases/public/refused.html"
#: HTTP status per refusal: a bad token is not found; a link that was real but no longer works is gone.
REFUSED_STATUS = {"invalid": 404, "revoked": 410, "expired": 410, "moved": 410, "finished": 410}


def _open(request, token):
    try:
        return worklinks.open_link(token), None
    except worklinks.LinkRefused as refused:
        return None, render(request, REFUSED_TEMPLATE, {"message": refused.message},
                            status=REFUSED_STATUS.get(refused.code, 404))


def _actor(link):
    return services.Actor.contractor(link.contractor.name)


def _context(link, done_form=None, show_number=False):
    case = link.case
    verbs = set(CaseEvent.objects.filter(case=case, actor_type=ActorType.CONTRACTOR,
                                         created_at__gte=link.created_at).values_list("verb", flat=True))
    return {
        "link": link,
        "case": case,
        "token": worklinks.token_for(link),
        "mobile": case.reporter_mobile if show_number else mask_mobile(case.reporter_mobile),
        "show_number": show_number,
        "contacted": "contact" in verbs,
        "on_site": "on_site" in verbs,
        "may_contact": services.possible("contact", case),
        "may_arrive": services.possible("on_site", case),
        "may_finish": services.possible("complete", case),
        "entries": timeline(case, viewer=ActorType.CONTRACTOR),
        "done_form": done_form or DoneForm(),
    }


@never_cache
def work_page(request, token):
    link, refused = _open(request, token)
    if refused:
        return refused
    if link.opened_at is None:
        WorkLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(opened_at=timezone.now())
    return render(request, TEMPLATE, _context(link))


@require_POST
@never_cache
def call(request, token):
    """Show the owner's number (and remember that it was shown) so the contractor can call."""
    link, refused = _open(request, token)
    if refused:
        return refused
    WorkLink.objects.filter(pk=link.pk, number_shown_at__isnull=True).update(number_shown_at=timezone.now())
    return render(request, TEMPLATE, _context(link, show_number=True))


def _act(request, token, perform, done_message, form_class=None):
    link, refused = _open(request, token)
    if refused:
        return refused
    form = form_class(request.POST, request.FILES) if form_class else None
    if form is None or form.is_valid():
        try:
            perform(link.case, _actor(link), form.cleaned_data if form else {})
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            link.case.refresh_from_db()
            return render(request, TEMPLATE, _context(link, done_form=form), status=400)
        messages.success(request, done_message)
        return redirect("cases:work", token=worklinks.token_for(link))
    return render(request, TEMPLATE, _context(link, done_form=form), status=400)


@require_POST
def contacted(request, token):
    return _act(request, token,
                lambda case, actor, data: services.record_contact(
                    case, actor, reached=True, note=_("维修单位已与业主联系"), visible_to_owner=True),
                _("已记录：已联系业主。"))


@require_POST
def arrived(request, token):
    return _act(request, token, lambda case, actor, data: services.on_site(case, actor), _("已记录：已到场。"))


@require_POST
def done(request, token):
    return _act(request, token,
                lambda case, actor, data: services.complete(case, actor, data["result"], photos=data["photos"],
                                                            before=data["before"]),
                _("已提交完工，等待业主验收。"), DoneForm)


@never_cache
def work_file(request, token, attachment):
    link, refused = _open(request, token)
    if refused:
        return refused
    return serve_attachment(get_object_or_404(CaseAttachment, pk=attachment, case=link.case, visible_to_owner=True))
