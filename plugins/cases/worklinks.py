"""Contractor work links (派工链接): a signed URL per dispatch that lets the contractor act on
one case from a phone, without an account (issue: "one case, expiring, revocable").

The token is ``<link id>-<nonce>`` signed with SECRET_KEY (``django.core.signing.Signer``,
a salt of its own): a forged or altered token fails the signature before any query; a genuine
one still opens nothing once its row is revoked or expired, or once the case has moved on
(another contractor, closed, cancelled). A new dispatch or hand-over to a contractor revokes
the case's earlier links and sends a new one by SMS through the outbox, so the 30-minute contact
clock starts with a link in the contractor's hand.
"""

import datetime
import secrets

from django.apps import apps
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Status, WorkLink

SALT = "cases.worklink"
NONCE_BYTES = 6  # 8 url-safe characters
#: Cases a link stops working for, whatever its expiry.
FINISHED = {Status.CLOSED, Status.CANCELLED}


class LinkRefused(Exception):
    """The link cannot be used; ``message`` says why in the contractor's language."""

    def __init__(self, message, code):
        super().__init__(message)
        self.message, self.code = message, code


def _signer():
    return signing.Signer(salt=SALT, sep=".")


def token_for(link):
    return _signer().sign(f"{link.pk}-{link.nonce}")


def path_for(link):
    return reverse("cases:work", args=[token_for(link)])


def lifetime():
    return datetime.timedelta(days=apps.get_app_config("cases").settings.get("WORK_LINK_DAYS", 7))


def issue(case, actor, when=None, *, renew=False):
    """The link of the case's current contractor, inside the caller's transaction (the
    dispatch's): a re-dispatch that keeps the contractor keeps its live link (no second SMS)
    unless ``renew``; otherwise the case's live links are revoked and a new one is sent. None
    without a contractor."""
    when = when or timezone.now()
    if case.contractor_id is not None and not renew:
        live = WorkLink.objects.filter(case=case, contractor_id=case.contractor_id, revoked_at__isnull=True,
                                       expires_at__gt=when).first()
        if live is not None:
            return live
    revoke(case, _("已重新派单"), when)
    if case.contractor_id is None:
        return None
    link = WorkLink.objects.create(
        case=case, contractor_id=case.contractor_id, nonce=secrets.token_urlsafe(NONCE_BYTES),
        created_at=when, created_by=actor.user, expires_at=when + lifetime(),
    )
    _send(case, link)
    return link


def revoke(case, reason, when=None):
    """作废 every live link of ``case``; returns how many."""
    return WorkLink.objects.filter(case=case, revoked_at__isnull=True).update(
        revoked_at=when or timezone.now(), revoked_reason=str(reason)[:200])


def _send(case, link):
    from notifications.services import absolute_url, send

    contractor = case.contractor
    if not contractor.contact_mobile:
        return
    place = " ".join(part for part in (case.project.name, case.unit.label if case.unit_id else "") if part)
    contact = _contact_minutes(case)
    send(f"case:{case.pk}:worklink:{link.pk}", [contractor.contact_mobile], "contractor_work_link",
         {"contractor": contractor.name, "number": case.number, "place": place,
          "contact_minutes": contact, "link": absolute_url(path_for(link))},
         channels=["sms"], urgent=True)


def _contact_minutes(case):
    from .models import CaseClock, ClockKind

    clock = (CaseClock.objects.filter(case=case, clock=ClockKind.CONTACT, stopped_at__isnull=True)
             .values_list("amount", "unit").first())
    if clock and clock[1] == "minutes":
        return clock[0]
    return 30


def open_link(token, now=None):
    """The live WorkLink a token names, with its case and contractor; LinkRefused otherwise."""
    try:
        value = _signer().unsign((token or "")[:200])
        pk, nonce = value.split("-", 1)
        pk = int(pk)
    except (signing.BadSignature, ValueError):
        raise LinkRefused(_("链接无效，请检查短信中的链接是否完整。"), "invalid") from None
    link = (WorkLink.objects.select_related("case__project", "case__unit__building", "case__category",
                                            "contractor")
            .filter(pk=pk).first())
    if link is None or not secrets.compare_digest(link.nonce, nonce):
        raise LinkRefused(_("链接无效，请检查短信中的链接是否完整。"), "invalid")
    now = now or timezone.now()
    if link.revoked_at is not None:
        raise LinkRefused(_("该链接已作废（%(reason)s）。如有疑问请联系派单的客服。") % {"reason": link.revoked_reason}, "revoked")
    if now >= link.expires_at:
        raise LinkRefused(_("该链接已过期，请联系客服重新发送。"), "expired")
    case = link.case
    if case.contractor_id != link.contractor_id:
        raise LinkRefused(_("该工单已改派给其他单位，此链接不再有效。"), "moved")
    if case.status in FINISHED:
        raise LinkRefused(_("工单 %(number)s 已%(status)s，无需再处理。")
                          % {"number": case.number, "status": case.get_status_display()}, "finished")
    return link
