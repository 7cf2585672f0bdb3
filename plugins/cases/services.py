"""The verbs of the case desk: the only way a case changes (ARCHITECTURE.md, "One way to
change state").

Each verb takes the acting ``Actor`` (a staff user, or an owner / contractor / the system by
name), checks the actor's permission and scope and the case's current state, locks the row,
and writes the change, exactly one timeline event and one history row with user and reason, in
one transaction. Refusals raise ``CaseRefused`` (a ValidationError with a Chinese message)
and change nothing.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from uuid import uuid4

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from estates import scope
from estates.normalize import normalize_mobile

from . import clocks, files, rollups, worklinks
from .models import (
    ActorType,
    Case,
    CaseAttachment,
    CaseEvent,
    Compensation,
    DepositCharge,
    Kind,
    PauseReason,
    Priority,
    Status,
)
from .numbering import next_number
from .search import words_for
from . import routing

MAX_DESCRIPTION = 2000
MAX_TEXT = 2000


class CaseRefused(ValidationError):
    """A verb refused: wrong state, missing reason, no permission, or out of scope."""


class CaseNotFound(CaseRefused):
    """No such case for this actor (another project's case looks the same as none: 404)."""


@dataclass(frozen=True)
class Actor:
    """Who acts. Staff act as their user; owners, contractors and the system act by name and
    need no permission (the caller has checked their link or token)."""

    type: str
    user: object = None
    name: str = ""

    @classmethod
    def staff(cls, user):
        return cls(ActorType.STAFF, user, user.get_full_name() or user.get_username())

    @classmethod
    def system(cls, name=""):
        return cls(ActorType.SYSTEM, None, name or _("系统"))

    @classmethod
    def owner(cls, name):
        return cls(ActorType.OWNER, None, name)

    @classmethod
    def contractor(cls, name):
        return cls(ActorType.CONTRACTOR, None, name)

    @property
    def is_staff(self):
        return self.type == ActorType.STAFF

    def may(self, permission):
        return not self.is_staff or self.user.has_perm(f"cases.{permission}")


def as_actor(who):
    return who if isinstance(who, Actor) else Actor.staff(who)


# --- Helpers every verb uses ---------------------------------------------------------------------
def _require(condition, message, code):
    if not condition:
        raise CaseRefused(message, code=code)


def _require_permission(actor, permission):
    _require(actor.may(permission), _("您没有执行此操作的权限。"), "permission")


def _clean_text(value, label, required=True, limit=MAX_TEXT):
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise CaseRefused(_("请填写%(label)s。") % {"label": label}, code="required")
    if len(text) > limit:
        raise CaseRefused(
            _("%(label)s最多 %(limit)s 个字（现在 %(n)s 个）。") % {"label": label, "limit": limit, "n": len(text)},
            code="too_long",
        )
    return text


def _locked(case, actor):
    """The case row, locked for this transaction and re-read, if ``actor`` may see it."""
    queryset = Case.objects.select_for_update()
    if actor.is_staff:
        queryset = scope.restrict(queryset, actor.user)
    try:
        return queryset.get(pk=case.pk if isinstance(case, Case) else case)
    except Case.DoesNotExist:
        raise CaseNotFound(_("工单不存在，或不在您负责的项目内。"), code="not_found") from None


def _save(case, actor, reason, fields=None):
    """Save with a history row naming the user (staff) or the actor (in the reason)."""
    case._history_user = actor.user
    case._change_reason = reason if actor.is_staff else f"[{ActorType(actor.type).label}：{actor.name}] {reason}"
    case.save(update_fields=fields)


def _event(case, actor, verb, *, type=CaseEvent.Type.TRANSITION, from_status="", text="",
           visible_to_owner=False, data=None, when=None):
    rollups.mark(case)  # every change writes an event: its cohort's figures are stale
    return CaseEvent.objects.create(
        case=case,
        type=type,
        verb=verb,
        from_status=from_status,
        to_status=case.status if type == CaseEvent.Type.TRANSITION else "",
        actor_type=actor.type,
        actor_user=actor.user,
        actor_name=actor.name,
        text=text,
        visible_to_owner=visible_to_owner,
        data=data or {},
        created_at=when or timezone.now(),
    )


def _transition(case, actor, verb, to_status, *, allowed, permission, reason="", text="",
                visible_to_owner=True, data=None, changes=None, clock_event=None):
    """The common shape of a verb: lock, check, change, move the clocks, save with history,
    one event. ``clock_event`` is (verb, details) for clocks.on_event when it differs from the
    verb itself (a rejected sign-off reopens)."""
    when = timezone.now()
    with transaction.atomic():
        _require_permission(actor, permission)
        case = _locked(case, actor)
        _check_kind(case, verb)
        _require(
            case.status in allowed,
            _("工单 %(number)s 当前状态为“%(status)s”，不能%(verb)s。")
            % {"number": case.number, "status": case.get_status_display(), "verb": VERB_NAMES.get(verb, verb)},
            "state",
        )
        from_status = case.status
        if callable(changes):
            changes = changes(case)
        for field, value in (changes or {}).items():
            setattr(case, field, value)
        if to_status is not None:
            case.status = to_status
        clock_verb, details = clock_event or (verb, {})
        if clock_verb:
            clocks.on_event(case, clock_verb, when, **details)
        _save(case, actor, str(reason or VERB_NAMES.get(verb, verb)))
        case.last_event = _event(case, actor, verb, from_status=from_status, text=text or reason,
                                 visible_to_owner=visible_to_owner, data=data, when=when)
        return case


VERB_NAMES = {  # what the timeline and messages call each verb
    "register": gettext_lazy("登记"),
    "accept": gettext_lazy("受理"),
    "dispatch": gettext_lazy("派单"),
    "contact": gettext_lazy("联系业主"),
    "start": gettext_lazy("开始处理"),
    "pause": gettext_lazy("暂停"),
    "resume": gettext_lazy("恢复处理"),
    "complete": gettext_lazy("完工"),
    "cancel": gettext_lazy("取消"),
    "note": gettext_lazy("添加备注"),
    "sign_off": gettext_lazy("业主验收"),
    "callback": gettext_lazy("回访"),
    "close": gettext_lazy("关闭"),
    "reopen": gettext_lazy("重开"),
    "escalate": gettext_lazy("升级"),
    "third_party": gettext_lazy("转第三方"),
    "on_site": gettext_lazy("到场"),
    "answer": gettext_lazy("答复业主"),
    "department_reply": gettext_lazy("部门回复"),
    "recheck": gettext_lazy("现场复核"),
    "repeat": gettext_lazy("重复报修"),
    "attach": gettext_lazy("上传附件"),
    "compensation": gettext_lazy("申请赔付"),
    "compensation_decision": gettext_lazy("审批赔付"),
    "deposit_charge": gettext_lazy("质保金扣款"),
    "import": gettext_lazy("导入"),
    "owner_message": gettext_lazy("业主留言"),
    "work_link": gettext_lazy("派工链接"),
}

OPEN = {Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED}


def closable_states(case):
    """A repair closes after its sign-off; a complaint or enquiry once answered."""
    if case.kind == Kind.REPAIR:
        return {Status.SIGNED_OFF}
    return (OPEN - {Status.REGISTERED}) | {Status.COMPLETED}


#: The states each verb accepts: the one table the verbs below and the admin's buttons read.
#: A value is a set of states, a function of the case, or None (any state).
STATES = {
    "accept": {Status.REGISTERED},
    "dispatch": {Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS},
    "contact": OPEN - {Status.REGISTERED},
    "start": {Status.DISPATCHED},
    "pause": {Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS},
    "resume": {Status.PAUSED},
    "complete": {Status.DISPATCHED, Status.IN_PROGRESS},
    "sign_off": {Status.COMPLETED},
    "callback": {Status.SIGNED_OFF, Status.CLOSED},
    "close": closable_states,
    "third_party": {Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED},
    "escalate": OPEN | {Status.COMPLETED, Status.SIGNED_OFF},
    "reopen": {Status.COMPLETED, Status.SIGNED_OFF, Status.CLOSED},
    "cancel": {Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED},
    "note": None,
    "attach": None,
    "on_site": {Status.DISPATCHED, Status.IN_PROGRESS},
    "answer": OPEN | {Status.COMPLETED},
    "department_reply": OPEN,
    "recheck": {Status.CLOSED},
    "compensation": set(Status.values) - {Status.CANCELLED},
    "compensation_decision": None,
    "deposit_charge": set(Status.values) - {Status.CANCELLED},
    "work_link": OPEN - {Status.REGISTERED},
}

#: Verbs only some kinds of case have.
KINDS = {
    "third_party": {Kind.REPAIR},
    "on_site": {Kind.REPAIR},
    "answer": {Kind.COMPLAINT, Kind.ENQUIRY},
    "department_reply": {Kind.COMPLAINT},
    "recheck": {Kind.COMPLAINT},
}


def possible(verb, case):
    """Whether ``verb`` can be done on ``case`` as it stands (permission aside): its state, and
    for a hand-over a repair, for an escalation a level left. The admin offers only these."""
    states = STATES[verb]
    states = states(case) if callable(states) else states
    if states is not None and case.status not in states:
        return False
    if verb in KINDS and case.kind not in KINDS[verb]:
        return False
    if verb == "deposit_charge":
        return case.original_contractor_id is not None
    if verb == "escalate":
        return case.escalation_level < MAX_ESCALATION
    if verb == "work_link":
        return case.contractor_id is not None
    return True


# --- Verbs ---------------------------------------------------------------------------------------
def register(who, *, kind, channel, project, reporter_name, reporter_mobile, description,
             category=None, priority=Priority.NORMAL, complaint_grade="", building=None, unit=None,
             owner=None, source="", when=None):
    """登记: a new case, numbered for its kind and day."""
    actor = as_actor(who)
    _require_permission(actor, "add_case")
    _require(kind in Kind.values, _("请选择工单类型。"), "kind")
    if actor.is_staff:
        allowed_ids = scope.project_ids_for(actor.user)
        _require(allowed_ids is None or project.pk in allowed_ids, _("您不负责该项目。"), "scope")
    reporter_name = _clean_text(reporter_name, _("报事人"), limit=50)
    description = _clean_text(description, _("问题描述"), limit=MAX_DESCRIPTION)
    reporter_mobile = normalize_mobile(reporter_mobile)
    if unit is not None:
        _require(unit.project_id == project.pk, _("房号不属于所选项目。"), "unit")
        building = building or unit.building
    if building is not None:
        _require(building.project_id == project.pk, _("楼栋不属于所选项目。"), "building")
    if category is not None:
        _require(category.kind == kind, _("分类与工单类型不符。"), "category")
        if category.emergency:
            priority = Priority.EMERGENCY
    when = when or timezone.now()
    with transaction.atomic():
        case = Case(
            number=next_number(kind, when),
            kind=kind, channel=channel, category=category, priority=priority,
            complaint_grade=complaint_grade if kind == Kind.COMPLAINT else "",
            project=project, building=building, unit=unit, owner=owner,
            reporter_name=reporter_name, reporter_mobile=reporter_mobile, description=description,
            search_words=words_for(description), source=source, registered_at=when, registered_by=actor.user,
        )
        _save(case, actor, str(VERB_NAMES["register"]))
        clocks.on_event(case, "register", when)
        _event(case, actor, "register", text=description, visible_to_owner=True, when=when)
        _flag_repeat(case, actor, when)
        routing.route(case, actor, when)
    return case


def accept(case, who, note=""):
    """受理."""
    return _transition(case, as_actor(who), "accept", Status.ACCEPTED, allowed=STATES["accept"],
                       permission="handle_case", text=note)


def dispatch(case, who, *, department=None, contractor=None, assignee=None, note=""):
    """派单 to a department, a contractor and/or a person (again to re-dispatch)."""
    actor = as_actor(who)
    _require(department or contractor or assignee, _("请选择派单对象（部门、施工单位或处理人）。"), "required")
    project_id = case.project_id if isinstance(case, Case) else Case.objects.values_list("project_id", flat=True).get(pk=case)
    _check_serves(project_id, contractor=contractor, assignee=assignee)
    with transaction.atomic():
        case = _transition(
            case, actor, "dispatch", Status.DISPATCHED,
            allowed=STATES["dispatch"],
            permission="dispatch_case", text=note,
            changes={"department": department, "contractor": contractor, "assignee": assignee,
                     "dispatched_at": timezone.now()},
            data={"department": getattr(department, "pk", None), "contractor": getattr(contractor, "pk", None),
                  "assignee": getattr(assignee, "pk", None)},
        )
        worklinks.issue(case, actor)
        return case


def _check_serves(project_id, *, contractor=None, assignee=None):
    """A case goes only to a contractor working on its project and to staff serving it."""
    if contractor is not None:
        _require(contractor.active and contractor.projects.filter(pk=project_id).exists(),
                 _("施工单位“%(name)s”未在本项目合作中，不能派给它。") % {"name": contractor}, "contractor")
    if assignee is not None:
        allowed = scope.project_ids_for(assignee)
        _require(assignee.is_active and (allowed is None or project_id in allowed),
                 _("“%(name)s”不负责本项目，不能派给其处理。") % {"name": assignee.get_full_name() or assignee.get_username()},
                 "assignee")


def start(case, who, note=""):
    """开始处理."""
    return _transition(case, as_actor(who), "start", Status.IN_PROGRESS, allowed=STATES["start"],
                       permission="handle_case", text=note)


def pause(case, who, reason_code, note=""):
    """暂停: waiting for the owner or for parts."""
    _require(reason_code in PauseReason.values, _("请选择暂停原因。"), "required")
    return _transition(
        case, as_actor(who), "pause", Status.PAUSED,
        allowed=STATES["pause"], permission="handle_case",
        reason=str(PauseReason(reason_code).label), text=_clean_text(note, _("说明"), required=False),
        changes=lambda locked: {"pause_reason": reason_code, "paused_from": locked.status},
        data={"reason": reason_code}, clock_event=("pause", {"reason": reason_code}),
    )


def resume(case, who, note=""):
    """恢复处理: back to where the case was before the pause."""
    return _transition(
        case, as_actor(who), "resume", None, allowed=STATES["resume"], permission="handle_case", text=note,
        changes=lambda locked: {"status": locked.paused_from or Status.IN_PROGRESS,
                                "pause_reason": "", "paused_from": ""},
    )


def complete(case, who, result, photos=(), before=()):
    """完工, with the result the owner will read and photos of the finished work (``photos``)
    and, from a contractor's phone, of the fault as found (``before``)."""
    result = _clean_text(result, _("处理结果"))
    checked = files.check_files(photos)
    checked_before = files.check_files(before)
    _require(len(checked) + len(checked_before) <= files.MAX_FILES,
             _("一次最多上传 %(limit)s 个文件。") % {"limit": files.MAX_FILES}, "too_many")
    actor = as_actor(who)
    with _files_stored() as names, transaction.atomic():
        case = _transition(case, actor, "complete", Status.COMPLETED, allowed=STATES["complete"],
                           permission="handle_case", text=result, changes={"completed_at": timezone.now()})
        if checked_before:
            _attach(case, actor, checked_before, CaseAttachment.Purpose.BEFORE, True, names)
        if checked:
            _attach(case, actor, checked, CaseAttachment.Purpose.AFTER, True, names)
        return case


def cancel(case, who, reason):
    """取消, with a reason."""
    reason = _clean_text(reason, _("取消原因"))
    return _transition(case, as_actor(who), "cancel", Status.CANCELLED,
                       allowed=STATES["cancel"],
                       permission="close_case", reason=reason, changes={"closed_at": timezone.now()})


def add_note(case, who, text, visible_to_owner=False):
    """备注: a line on the timeline; the case itself does not change (no history row)."""
    actor = as_actor(who)
    text = _clean_text(text, _("备注"))
    with transaction.atomic():
        _require_permission(actor, "handle_case")
        case = _locked(case, actor)
        return _event(case, actor, "note", type=CaseEvent.Type.NOTE, text=text,
                      visible_to_owner=visible_to_owner)


def _check_kind(case, verb):
    _require(verb not in KINDS or case.kind in KINDS[verb],
             _("%(kind)s工单不能%(verb)s。") % {"kind": case.get_kind_display(), "verb": VERB_NAMES[verb]}, "kind")


def _record(case, actor, verb, *, permission, type, text="", visible_to_owner=False, data=None,
            clock_event=True):
    """The shape of a verb that changes no field of the case: lock, check permission, state and
    kind, move the clocks, one timeline event (no history row: the case row is unchanged)."""
    with transaction.atomic():
        _require_permission(actor, permission)
        case = _locked(case, actor)
        _check_kind(case, verb)
        states = STATES[verb]
        _require(states is None or case.status in states,
                 _("工单 %(number)s 当前状态为“%(status)s”，不能%(verb)s。")
                 % {"number": case.number, "status": case.get_status_display(), "verb": VERB_NAMES[verb]}, "state")
        when = timezone.now()
        if clock_event:
            clocks.on_event(case, verb, when)
        return _event(case, actor, verb, type=type, text=text, visible_to_owner=visible_to_owner,
                      data=data, when=when)


def record_contact(case, who, *, reached, note="", visible_to_owner=False):
    """联系业主: a call or visit to book the work; stops the contact clock when reached."""
    note = _clean_text(note, _("联系情况"), required=not reached)
    return _record(case, as_actor(who), "contact", permission="handle_case", type=CaseEvent.Type.CALL,
                   text=note, visible_to_owner=visible_to_owner, data={"reached": bool(reached)},
                   clock_event=bool(reached))


def on_site(case, who, note=""):
    """到场: the contractor or engineer is at the unit; stops the on-site clock and starts the
    work."""
    return _transition(case, as_actor(who), "on_site", Status.IN_PROGRESS, allowed=STATES["on_site"],
                       permission="handle_case", text=_clean_text(note, _("说明"), required=False))


def answer(case, who, text):
    """答复业主: what the owner is told — the result, or where the case stands (the 24-hour
    answer of a complaint). The owner sees it."""
    text = _clean_text(text, _("答复内容"))
    return _record(case, as_actor(who), "answer", permission="handle_case", type=CaseEvent.Type.MESSAGE,
                   text=text, visible_to_owner=True)


def department_reply(case, who, text):
    """部门回复: the responsible department's reply to customer service, due an hour before the
    owner's answer. Internal."""
    text = _clean_text(text, _("部门回复内容"))
    return _record(case, as_actor(who), "department_reply", permission="handle_case",
                   type=CaseEvent.Type.NOTE, text=text)


def recheck(case, who, result):
    """现场复核: the on-site re-check of a closed complaint (within 7 days)."""
    result = _clean_text(result, _("复核结果"))
    return _record(case, as_actor(who), "recheck", permission="manage_case", type=CaseEvent.Type.NOTE,
                   text=result)


def sign_off(case, who, *, accepted, reason="", photos=()):
    """业主验收: the owner accepts the finished repair, or rejects it with a reason (and photos,
    if they like) — which reopens the case and escalates it (DOMAIN.md: a rejected sign-off goes
    to the quality manager, and the work to a third party)."""
    if not accepted:
        reason = _clean_text(reason, _("不满意的原因"))
    checked = files.check_files(photos)
    actor = as_actor(who)

    def changes(locked):
        if accepted:
            return {"status": Status.SIGNED_OFF}
        return {"status": Status.IN_PROGRESS, "escalation_level": min(locked.escalation_level + 1, MAX_ESCALATION)}

    with _files_stored() as names, transaction.atomic():
        case = _transition(
            case, actor, "sign_off", None, allowed=STATES["sign_off"], permission="callback_case",
            reason=_("业主验收通过") if accepted else _("业主验收不通过：%(reason)s") % {"reason": reason},
            changes=changes, data={"accepted": bool(accepted)},
            clock_event=(None, {}) if accepted else ("reopen", {}),
        )
        if checked:
            _attach(case, actor, checked, CaseAttachment.Purpose.EVIDENCE, True, names)
        if not accepted:
            _tell_quality(case, case.last_event, _("业主验收不通过，已重开并升级：%(reason)s") % {"reason": reason})
        return case


#: DOMAIN.md ("Clocks"): this many call-back attempts that do not reach the owner end the
#: call-back (the reason written is "三次回访未接通，结束回访").
CALLBACK_ATTEMPTS = 3


def callback(case, who, *, reached, score=None, remark=""):
    """回访: the call centre calls the owner back. Not reached: an attempt on the timeline,
    numbered within this round of the call-back; the ``CALLBACK_ATTEMPTS``-th ends the call-back
    (its clock stops and a signed-off repair is closed). Reached: a score 1–5; below 3 reopens
    the case and escalates it; otherwise a signed-off repair is closed. Returns the event of an
    attempt, or the case of a scored call-back."""
    actor = as_actor(who)
    remark = _clean_text(remark, _("回访记录"), required=False)
    if not reached:
        with transaction.atomic():
            _require_permission(actor, "callback_case")
            case = _locked(case, actor)
            _require(case.status in STATES["callback"], _("工单 %(number)s 当前不需要回访。") % {"number": case.number}, "state")
            attempt = _failed_callbacks(case) + 1
            if attempt >= CALLBACK_ATTEMPTS:
                return _give_up_callback(case, actor, attempt, remark)
            return _event(case, actor, "callback", type=CaseEvent.Type.CALL, text=remark or _("未接通"),
                          data={"reached": False, "attempt": attempt})
    return _scored(case, actor, score, remark, by_owner=False)


#: Timeline events after which a call-back round begins afresh, when no call-back clock runs.
_CALLBACK_ROUND_EDGES = (Q(verb__in=("complete", "close", "reopen"))
                         | Q(verb="callback", data__reached=True) | Q(verb="callback", data__given_up=True))


def _failed_callbacks(case):
    """How many call-backs of this round did not reach the owner: those since the running
    call-back clock started; with none running (the policy has no call-back target, or a closed
    case is called again), those since the round last began or ended on the timeline."""
    attempts = case.events.filter(verb="callback", data__reached=False)
    started = (case.clocks.filter(clock=clocks.CALLBACK, stopped_at__isnull=True)
               .values_list("started_at", flat=True).first())
    if started is not None:
        return attempts.filter(created_at__gte=started).count()
    edge = case.events.filter(_CALLBACK_ROUND_EDGES).order_by("-created_at", "-pk").values_list("created_at", "pk").first()
    if edge is not None:
        attempts = attempts.filter(Q(created_at__gt=edge[0]) | Q(created_at=edge[0], pk__gt=edge[1]))
    return attempts.count()


def _give_up_callback(case, actor, attempt, remark):
    """The last failed attempt ends the call-back: the call-back clock stops, a signed-off
    repair is closed (a closed case stays closed), one internal event and a history row — inside
    the caller's transaction, the case already locked. Returns the event."""
    reason = _("三次回访未接通，结束回访")

    def changes(locked):
        if locked.status == Status.SIGNED_OFF:
            return {"status": Status.CLOSED, "closed_at": timezone.now()}
        return {}

    case = _transition(case, actor, "callback", None, allowed=STATES["callback"], permission="callback_case",
                       reason=reason, text=f"{reason}：{remark}" if remark else reason, visible_to_owner=False,
                       changes=changes, data={"reached": False, "attempt": attempt, "given_up": True})
    return case.last_event


def rate(case, who, *, score, comment=""):
    """业主评价: the owner scores the service 1–5 from their case page. It stands for the
    call-back (the same rules: below 3 reopens and escalates; otherwise a signed-off repair is
    closed) and the owner sees it on their timeline. Once per round of work: refused when the
    case was already scored since it was last completed, closed or reopened."""
    comment = _clean_text(comment, _("评价内容"), required=False, limit=500)
    return _scored(case, as_actor(who), score, comment, by_owner=True)


def scored_this_round(case):
    """Whether the case got a score (owner's rating or a reached call-back) since it was last
    completed, closed or reopened."""
    last = (CaseEvent.objects.filter(case=case, verb__in=("complete", "close", "reopen", "sign_off", "callback"))
            .exclude(verb="callback", data__reached=False).order_by("-created_at", "-pk").values_list("verb", flat=True)
            .first())
    return last == "callback"


def _scored(case, actor, score, remark, *, by_owner):
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    _require(1 <= score <= 5, _("请给出 1 到 5 分的满意度评分。"), "score")
    low = score < LOW_SCORE

    def changes(locked):
        if by_owner:
            _require(not scored_this_round(locked), _("您已评价过这张工单，感谢您的反馈。"), "rated")
        if low:
            return {"status": Status.IN_PROGRESS, "closed_at": None,
                    "escalation_level": min(locked.escalation_level + 1, MAX_ESCALATION)}
        if locked.status == Status.SIGNED_OFF:
            return {"status": Status.CLOSED, "closed_at": timezone.now()}
        return {}

    reason = (_("业主评价 %(score)s 分") if by_owner else _("回访 %(score)s 分")) % {"score": score}
    with transaction.atomic():
        case = _transition(
            case, actor, "callback", None, allowed=STATES["callback"], permission="callback_case",
            reason=reason, text=remark or (reason if by_owner else ""), visible_to_owner=by_owner,
            changes=changes,
            data={"reached": True, "score": score, "reopened": low, **({"by_owner": True} if by_owner else {})},
            clock_event=("reopen", {}) if low else ("callback", {"done": True}),
        )
        if low:
            _tell_quality(case, case.last_event,
                          _("%(reason)s，已重开并升级。%(remark)s") % {"reason": reason, "remark": remark})
        return case


def owner_message(case, who, text, uploads=()):
    """业主留言: the owner writes on their case, with photos if they like. The owner sees it on
    their timeline; staff see it there and the assignee is told in the admin inbox."""
    actor = as_actor(who)
    text = _clean_text(text, _("留言内容"), limit=500)
    checked = files.check_files(uploads)
    with _files_stored() as names, transaction.atomic():
        case = _locked(case, actor)
        _require(case.status != Status.CANCELLED,
                 _("工单 %(number)s 已取消，不能再留言。如有新问题请重新报事。") % {"number": case.number}, "state")
        event = _event(case, actor, "owner_message", type=CaseEvent.Type.MESSAGE, text=text, visible_to_owner=True)
        if checked:
            _attach(case, actor, checked, CaseAttachment.Purpose.REPORT, True, names)
        _tell_assignee(case, event, _("业主留言：%(text)s") % {"text": text[:100]})
        return event


def _tell_assignee(case, event, text):
    from notifications.services import send

    person = case.assignee or case.registered_by
    if person is None:
        return
    send(f"case:{case.pk}:event:{event.pk}", [person], "generic",
         {"subject": _("工单 %(number)s：%(text)s") % {"number": case.number, "text": text}, "body": text},
         channels=["admin"], url=reverse("wagtailsnippets_cases_case:inspect", args=[case.pk]))


def close(case, who, note=""):
    """关闭: a repair after its sign-off; a complaint or enquiry once answered."""
    actor = as_actor(who)
    note = _clean_text(note, _("办结说明"), required=False)

    def changes(locked):
        _require(locked.status in closable_states(locked),
                 _("工单 %(number)s 当前状态为“%(status)s”，不能关闭。")
                 % {"number": locked.number, "status": locked.get_status_display()}, "state")
        return {"status": Status.CLOSED, "closed_at": timezone.now(), "pause_reason": "", "paused_from": ""}

    return _transition(case, actor, "close", None, allowed=set(Status.values), permission="close_case",
                       text=note, changes=changes)


def reopen(case, who, reason):
    """重开, with a reason."""
    reason = _clean_text(reason, _("重开原因"))
    return _transition(case, as_actor(who), "reopen", Status.IN_PROGRESS,
                       allowed=STATES["reopen"], permission="manage_case",
                       reason=reason, changes={"closed_at": None})


def escalate(case, who, reason):
    """升级 one level (assignee → supervisor → manager), with a reason."""
    reason = _clean_text(reason, _("升级原因"))

    def changes(locked):
        _require(locked.escalation_level < MAX_ESCALATION, _("工单已升级到最高级别。"), "state")
        return {"escalation_level": locked.escalation_level + 1}

    return _transition(case, as_actor(who), "escalate", None,
                       allowed=STATES["escalate"], permission="manage_case",
                       reason=reason, visible_to_owner=False, changes=changes)


def hand_to_third_party(case, who, contractor, reason):
    """转第三方: the original contractor had its one chance; the work goes to ``contractor``
    (the cost is charged to the original contractor's warranty deposit elsewhere)."""
    reason = _clean_text(reason, _("转第三方的原因"))

    def changes(locked):
        _require(locked.kind == Kind.REPAIR, _("只有报修工单可以转第三方。"), "kind")
        _require(contractor is not None and contractor.pk != locked.contractor_id,
                 _("请选择另一家施工单位。"), "contractor")
        _check_serves(locked.project_id, contractor=contractor)
        return {"original_contractor_id": locked.original_contractor_id or locked.contractor_id,
                "contractor": contractor, "dispatched_at": timezone.now()}

    actor = as_actor(who)
    with transaction.atomic():
        case = _transition(case, actor, "third_party", Status.DISPATCHED,
                           allowed=STATES["third_party"], permission="manage_case",
                           reason=reason, changes=changes,
                           data={"contractor": getattr(contractor, "pk", None)})
        worklinks.issue(case, actor)
        return case


def work_link(case, who, *, renew, reason):
    """派工链接: staff send the contractor a new link (revoking the old one) or revoke the
    case's links without a new one (a lost phone, a forwarded SMS). An internal timeline event
    names who did it and why."""
    actor = as_actor(who)
    reason = _clean_text(reason, _("原因"), limit=200)
    with transaction.atomic():
        _require_permission(actor, "dispatch_case")
        case = _locked(case, actor)
        _require(possible("work_link", case), _("工单 %(number)s 当前没有可用的派工链接。") % {"number": case.number},
                 "state")
        if renew:
            link = worklinks.issue(case, actor, renew=True)
            text = _("已重新发送派工链接给%(name)s：%(reason)s") % {"name": case.contractor.name, "reason": reason}
        else:
            link = None
            worklinks.revoke(case, reason)
            text = _("已作废派工链接：%(reason)s") % {"reason": reason}
        _event(case, actor, "work_link", type=CaseEvent.Type.NOTE, text=text,
               data={"renewed": bool(renew), "link": link.pk if link else None})
        return link


MAX_ESCALATION = 3
LOW_SCORE = 3


# --- Files ---------------------------------------------------------------------------------------
def attach(case, who, uploads, *, purpose=CaseAttachment.Purpose.OTHER, visible_to_owner=False, note=""):
    """上传附件: photos or PDFs, checked by content (plugins/cases/files.py), stored privately,
    one timeline event listing them. Refused input stores nothing."""
    actor = as_actor(who)
    _require(purpose in CaseAttachment.Purpose.values, _("请选择附件用途。"), "purpose")
    checked = files.check_files(uploads)
    _require(checked, _("请选择要上传的文件。"), "required")
    note = _clean_text(note, _("说明"), required=False)
    with _files_stored() as names, transaction.atomic():
        _require_permission(actor, "add_caseattachment")
        case = _locked(case, actor)
        return _attach(case, actor, checked, purpose, visible_to_owner, names, note)


@contextmanager
def _files_stored():
    """The names of files a verb writes; deleted again if the verb fails, so a refusal or a
    rolled-back transaction leaves no orphan file. (A rollback of an *outer* transaction after
    the verb returned is not seen; callers nest verbs only in tests.)"""
    names = []
    try:
        yield names
    except BaseException:
        files.delete_stored(names)
        raise


def _attach(case, actor, checked, purpose, visible_to_owner, names, text=""):
    """Store ``checked`` files on the locked ``case`` inside the caller's transaction, adding
    each stored name to ``names`` (see _files_stored)."""
    rows = []
    for item in checked:
        names.append(files.store(item))
        rows.append((names[-1], item.name, item.content_type, item.size, ""))
    return _record_files(case, actor, rows, purpose, visible_to_owner, text)


def _record_files(case, actor, rows, purpose, visible_to_owner, text=""):
    """The CaseAttachment rows for stored files — ``rows`` are (stored name, display name,
    content type, size, source) — and one timeline event listing them."""
    attachments = CaseAttachment.objects.bulk_create([
        CaseAttachment(case=case, file=stored, name=name[:120], content_type=content_type, size=size,
                       purpose=purpose, visible_to_owner=visible_to_owner, actor_type=actor.type,
                       actor_user=actor.user, actor_name=actor.name, source=source)
        for stored, name, content_type, size, source in rows
    ])
    _event(case, actor, "attach", type=CaseEvent.Type.FILE,
           text=text or "、".join(attachment.name for attachment in attachments), visible_to_owner=visible_to_owner,
           data={"attachments": [attachment.pk for attachment in attachments], "purpose": purpose})
    return attachments


def copy_files(case, who, items, *, purpose=CaseAttachment.Purpose.REPORT, visible_to_owner=True):
    """Copy already-checked files kept elsewhere in the private storage (a portal form's photos)
    onto the case. ``items`` are (source, stored name, display name, content type); a source
    copied before is skipped, so a re-delivered submission copies once."""
    actor = as_actor(who)
    with _files_stored() as names, transaction.atomic():
        case = _locked(case, actor)
        done = set(case.attachments.exclude(source="").values_list("source", flat=True))
        storage = files.private_storage()
        rows = []
        for source, stored_name, name, content_type in items:
            if source in done:
                continue
            with storage.open(stored_name, "rb") as handle:
                content = handle.read()
            extension = stored_name.rsplit(".", 1)[-1] if "." in stored_name else "bin"
            names.append(storage.save(f"cases/{timezone.localdate():%Y/%m}/{uuid4().hex}.{extension}",
                                      files.ContentFile(content)))
            rows.append((names[-1], name or stored_name.rsplit("/", 1)[-1], content_type, len(content), source))
        return _record_files(case, actor, rows, purpose, visible_to_owner) if rows else []


# --- Repeat repairs -------------------------------------------------------------------------------
def _flag_repeat(case, actor, when):
    """重复报修: the same unit and category repaired again within the policy's window (90 days
    by default) — the new case points at the earlier one and is escalated one level."""
    if case.kind != Kind.REPAIR or case.unit_id is None or case.category_id is None:
        return None
    policy = clocks.policy_for(case)
    days = policy.repeat_window_days if policy is not None else REPEAT_WINDOW_DAYS
    if not days:
        return None
    earlier = (
        Case.objects.filter(unit_id=case.unit_id, category_id=case.category_id, kind=Kind.REPAIR,
                            registered_at__gte=when - timedelta(days=days), registered_at__lte=when)
        .exclude(pk=case.pk).exclude(status=Status.CANCELLED)
        .order_by("-registered_at", "-pk").only("pk", "number").first()
    )
    if earlier is None:
        return None
    case.repeat_of = earlier
    case.escalation_level = max(case.escalation_level, 1)
    _save(case, actor, _("重复报修：%(days)s 天内同一房号同一分类已有工单 %(number)s") % {"days": days, "number": earlier.number},
          fields=["repeat_of", "escalation_level"])
    _event(case, actor, "repeat", type=CaseEvent.Type.NOTE,
           text=_("%(days)s 天内同一房号同一分类已有工单 %(number)s，已标记为重复报修并升级。")
           % {"days": days, "number": earlier.number},
           data={"repeat_of": earlier.pk, "days": days}, when=when)
    _tell_quality(case, None, _("重复报修：%(days)s 天内同一房号同一分类已有工单 %(number)s") % {"days": days, "number": earlier.number})
    return earlier


QUALITY_MANAGERS = "质量经理"  # the group created by migration 0005_roles


def quality_managers(project_id):
    """Active members of the quality managers' group who serve ``project_id``."""
    return list(
        get_user_model().objects.filter(groups__name=QUALITY_MANAGERS, is_active=True)
        .filter(Q(staff_profile__all_projects=True) | Q(staff_profile__projects=project_id)).distinct()
    )


def _tell_quality(case, event, text):
    """The seeds send a rejected sign-off, a low call-back score and a repeat repair to the
    quality manager: an outbox message (in-admin and email) under a key of its own, written in
    the verb's transaction. Falls back to the supervisor chain's second level when the project
    has no quality manager."""
    from notifications.services import send

    recipients = quality_managers(case.project_id) or clocks.escalation_recipients(case, 2)
    if not recipients:
        return
    suffix = event.pk if event is not None else "repeat"
    subject = _("工单 %(number)s 已升级至质量经理") % {"number": case.number}
    body = _("%(text)s\n项目：%(project)s；报事人：%(reporter)s。\n%(description)s") % {
        "text": text, "project": case.project.name, "reporter": case.reporter_name,
        "description": case.description[:200]}
    send(f"case:{case.pk}:quality:{suffix}", recipients, "generic", {"subject": subject, "body": body},
         url=f"/admin/snippets/cases/case/inspect/{case.pk}/")


REPEAT_WINDOW_DAYS = 90


# --- Money ---------------------------------------------------------------------------------------
MAX_AMOUNT = Decimal("9999999.99")


def _amount(value, label):
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except (InvalidOperation, ValueError):
        raise CaseRefused(_("%(label)s请填写数字，例如 1200 或 1200.50。") % {"label": label}, code="amount") from None
    _require(amount.is_finite() and Decimal("0.01") <= amount <= MAX_AMOUNT and amount == amount.quantize(Decimal("0.01")),
             _("%(label)s须在 0.01 到 9,999,999.99 元之间，最多两位小数。") % {"label": label}, "amount")
    return amount


def request_compensation(case, who, *, amount, reason):
    """申请赔付: an amount for the owner with its reason, waiting for a second person's
    approval."""
    actor = as_actor(who)
    _require(actor.is_staff, _("赔付只能由员工申请。"), "permission")
    amount = _amount(amount, _("赔付金额"))
    reason = _clean_text(reason, _("赔付原因"))
    with transaction.atomic():
        _require_permission(actor, "add_compensation")
        case = _locked(case, actor)
        _require(possible("compensation", case), _("已取消的工单不能申请赔付。"), "state")
        compensation = Compensation(case=case, amount=amount, reason=reason, requested_by=actor.user)
        compensation._history_user = actor.user
        compensation._change_reason = str(VERB_NAMES["compensation"])
        compensation.save()
        _event(case, actor, "compensation", type=CaseEvent.Type.NOTE,
               text=_("申请赔付 ¥%(amount)s：%(reason)s") % {"amount": amount, "reason": reason},
               data={"compensation": compensation.pk, "amount": str(amount)})
        return compensation


def decide_compensation(compensation, who, *, approve, note=""):
    """审批赔付: approve or reject a request — never by the person who asked (the database
    refuses it too). A rejection needs a reason."""
    actor = as_actor(who)
    _require(actor.is_staff, _("赔付只能由员工审批。"), "permission")
    note = _clean_text(note, _("审批意见"), required=not approve)
    with transaction.atomic():
        _require_permission(actor, "approve_compensation")
        case = _locked(compensation.case_id, actor)
        compensation = Compensation.objects.select_for_update().get(pk=compensation.pk)
        _require(compensation.state == Compensation.State.REQUESTED,
                 _("该赔付已经%(state)s，不能再次审批。") % {"state": compensation.get_state_display()}, "state")
        _require(compensation.requested_by_id != actor.user.pk,
                 _("赔付须由申请人以外的另一人审批。"), "second_person")
        compensation.state = Compensation.State.APPROVED if approve else Compensation.State.REJECTED
        compensation.decided_by = actor.user
        compensation.decided_at = timezone.now()
        compensation.decision_note = note
        compensation._history_user = actor.user
        compensation._change_reason = str(compensation.get_state_display())
        compensation.save()
        _event(case, actor, "compensation_decision", type=CaseEvent.Type.NOTE,
               text=_("赔付 ¥%(amount)s %(state)s%(note)s") % {
                   "amount": compensation.amount, "state": compensation.get_state_display(),
                   "note": f"：{note}" if note else ""},
               data={"compensation": compensation.pk, "approved": bool(approve)})
        return compensation


def charge_deposit(case, who, *, amount, evidence, uploads=()):
    """质保金扣款: the third party's cost charged to the original contractor's warranty deposit,
    with the evidence (text, and photos or PDFs attached to the case)."""
    actor = as_actor(who)
    _require(actor.is_staff, _("质保金扣款只能由员工登记。"), "permission")
    amount = _amount(amount, _("扣款金额"))
    evidence = _clean_text(evidence, _("扣款依据"))
    checked = files.check_files(uploads)
    with _files_stored() as names, transaction.atomic():
        _require_permission(actor, "add_depositcharge")
        case = _locked(case, actor)
        _require(case.original_contractor_id is not None,
                 _("只有转给第三方施工单位的工单才能从原施工单位的质保金中扣款。"), "state")
        _require(possible("deposit_charge", case), _("已取消的工单不能扣款。"), "state")
        charge = DepositCharge.objects.create(
            contractor_id=case.original_contractor_id, case=case, third_party_id=case.contractor_id,
            amount=amount, evidence=evidence, recorded_by=actor.user,
        )
        if checked:
            _attach(case, actor, checked, CaseAttachment.Purpose.EVIDENCE, False, names,
                    _("扣款凭证：%(names)s") % {"names": "、".join(item.name for item in checked)})
        _event(case, actor, "deposit_charge", type=CaseEvent.Type.NOTE,
               text=_("从 %(contractor)s 的质保金扣款 ¥%(amount)s：%(evidence)s") % {
                   "contractor": case.original_contractor, "amount": amount, "evidence": evidence},
               data={"charge": charge.pk, "amount": str(amount)})
        return charge


def correct_deposit_charge(charge, who, reason):
    """冲正: a ledger line that cancels an earlier one (the ledger itself is never edited)."""
    actor = as_actor(who)
    reason = _clean_text(reason, _("冲正原因"))
    with transaction.atomic():
        _require_permission(actor, "add_depositcharge")
        case = _locked(charge.case_id, actor)
        charge = DepositCharge.objects.select_for_update().get(pk=charge.pk)
        _require(charge.corrects_id is None and not charge.corrections.exists(),
                 _("该记录已冲正或本身是冲正记录。"), "state")
        correction = DepositCharge.objects.create(
            contractor_id=charge.contractor_id, case=case, third_party_id=charge.third_party_id,
            amount=-charge.amount, evidence=reason, corrects=charge, recorded_by=actor.user,
        )
        _event(case, actor, "deposit_charge", type=CaseEvent.Type.NOTE,
               text=_("冲正质保金扣款 ¥%(amount)s：%(reason)s") % {"amount": charge.amount, "reason": reason},
               data={"charge": correction.pk, "corrects": charge.pk, "amount": str(correction.amount)})
        return correction
