"""The verbs of owner interviews: who may see, log and edit them, logging one, and raising a
finding as a case.

Raising goes through the signal ``interview_finding_raised`` (plugins/signals.py): the case desk
opens the case in its own services, inside this module's transaction, so the case and the
finding's "raised" mark are stored together or not at all. Refusals raise ``InterviewRefused``
(a ValidationError with a Chinese message) and change nothing.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from estates import scope
from plugins.signals import interview_finding_raised

from .models import Finding, Interview


class InterviewRefused(ValidationError):
    """A refused verb: no permission, out of scope, bad input or no case desk."""


class InterviewNotFound(InterviewRefused):
    """No such interview or finding for this user (another project's looks the same: 404)."""


# --- Who may do what ---------------------------------------------------------------------------
# Groups say what (add = log one's own interviews; view = see everyone's in one's projects;
# change = also correct them), estates.StaffProfile says where (ARCHITECTURE.md decision 3).


def sees_all(user):
    """Whether ``user`` sees every interview of their projects, not only their own."""
    return user.has_perm("interviews.view_interview") or user.has_perm("interviews.change_interview")


def may_log(user):
    return user.has_perm("interviews.add_interview")


def may_edit(user, interview):
    """Managers correct any interview they can see; staff their own."""
    if user.has_perm("interviews.change_interview"):
        return True
    return may_log(user) and interview.interviewer_id == user.pk


def may_raise(user):
    """Raising a finding is part of logging interviews (on an interview the user can see); the
    case desk checks its own permission to register a case as well."""
    return may_log(user) or user.has_perm("interviews.change_interview")


def visible_interviews(user, queryset=None):
    """The interviews ``user`` may see: their projects' (estates.scope), and of those only their
    own unless they see all."""
    queryset = scope.restrict(Interview.objects.all() if queryset is None else queryset, user)
    if not sees_all(user):
        queryset = queryset.filter(interviewer_id=user.pk)
    return queryset


def visible_findings(user, queryset=None):
    queryset = scope.restrict(Finding.objects.all() if queryset is None else queryset, user)
    if not sees_all(user):
        queryset = queryset.filter(interview__interviewer_id=user.pk)
    return queryset


def can_raise_findings():
    """Whether any plugin opens cases from findings (the case desk, when enabled)."""
    return interview_finding_raised.has_listeners(Finding)


# --- Verbs ---------------------------------------------------------------------------------------


def _require(condition, message, code):
    if not condition:
        raise InterviewRefused(message, code=code)


def log_interview(user, *, project, method, topics, unit=None, owner=None, date=None, summary="", findings=()):
    """登记访谈 as ``user``, with ``findings`` as (kind, text, category_hint) triples; validated
    like the admin form (unit in the project, owner of the unit, no future date)."""
    _require(may_log(user), _("您没有登记业主访谈的权限。"), "permission")
    allowed = scope.project_ids_for(user)
    _require(allowed is None or project.pk in allowed, _("您不负责该项目。"), "scope")
    return store_interview(user, project=project, method=method, topics=topics, unit=unit, owner=owner,
                           date=date, summary=summary, findings=findings)


def store_interview(interviewer, *, project, method, topics, unit=None, owner=None, date=None, summary="",
                    findings=()):
    """The validation and writing of ``log_interview`` without its permission and scope checks:
    for records whose interviewer is named by someone else (the demo, an import)."""
    interview = Interview(interviewer=interviewer, project=project, unit=unit, owner=owner, method=method,
                          topics=(topics or "").strip(), summary=(summary or "").strip(),
                          date=date or timezone.localdate())
    interview.full_clean()
    rows = []
    for kind, text, hint in findings:
        finding = Finding(kind=kind, text=(text or "").strip(), category_hint=(hint or "").strip())
        finding.full_clean(exclude=["interview"])
        rows.append(finding)
    with transaction.atomic():
        interview._history_user = interviewer
        interview.save()
        for finding in rows:
            finding.interview = interview
            finding._history_user = interviewer
            finding.save()
    return interview


def raise_finding(finding, user):
    """转为工单: open a case for ``finding`` through the case desk, once. Returns
    ``(finding, raised_now)``; a finding already raised comes back unchanged with
    ``raised_now=False`` — a second click, or the second of two at once (the row lock makes it
    wait for the first), opens nothing."""
    pk = finding.pk if isinstance(finding, Finding) else finding
    with transaction.atomic():
        queryset = visible_findings(user, Finding.objects.select_for_update(of=("self",)))
        locked = (queryset.select_related("interview__project", "interview__unit", "interview__owner",
                                          "interview__interviewer").filter(pk=pk).first())
        if locked is None:
            raise InterviewNotFound(_("访谈记录不存在，或不在您负责的项目内。"), code="not_found")
        if locked.is_raised:
            return locked, False
        _require(may_raise(user), _("您没有将访谈问题转为工单的权限。"), "permission")
        _require(can_raise_findings(), _("客服工单插件未启用，访谈中发现的问题暂不能转为工单。"), "no_case_desk")
        responses = interview_finding_raised.send(sender=Finding, finding=locked, interview=locked.interview,
                                                  user=user)
        result = next((response for _receiver, response in responses if response and response.get("number")), None)
        _require(result is not None, _("没有插件接收此问题，未转为工单。"), "no_case_desk")
        locked.case_reference = str(result["number"])[:24]
        locked.case_url = str(result.get("url") or "")[:200]
        locked.raised_at = timezone.now()
        locked.raised_by = user
        locked._history_user = user
        locked._change_reason = _("转为工单 %(number)s") % {"number": locked.case_reference}
        locked.save(update_fields=["case_reference", "case_url", "raised_at", "raised_by"])
    return locked, True
