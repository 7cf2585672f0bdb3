"""The verbs of the case desk: the only way a case changes (ARCHITECTURE.md, "One way to
change state").

Each verb takes the acting ``Actor`` (a staff user, or an owner / contractor / the system by
name), checks the actor's permission and scope and the case's current state, locks the row,
and writes the change, exactly one timeline event and one history row with user and reason, in
one transaction. Refusals raise ``CaseRefused`` (a ValidationError with a Chinese message)
and change nothing.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from estates import scope
from estates.normalize import normalize_mobile

from . import clocks
from .models import ActorType, Case, CaseEvent, Kind, PauseReason, Priority, Status
from .numbering import next_number

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
        _event(case, actor, verb, from_status=from_status, text=text or reason,
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
}


def possible(verb, case):
    """Whether ``verb`` can be done on ``case`` as it stands (permission aside): its state, and
    for a hand-over a repair, for an escalation a level left. The admin offers only these."""
    states = STATES[verb]
    states = states(case) if callable(states) else states
    if states is not None and case.status not in states:
        return False
    if verb == "third_party":
        return case.kind == Kind.REPAIR
    if verb == "escalate":
        return case.escalation_level < MAX_ESCALATION
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
            source=source, registered_at=when, registered_by=actor.user,
        )
        _save(case, actor, str(VERB_NAMES["register"]))
        clocks.on_event(case, "register", when)
        _event(case, actor, "register", text=description, visible_to_owner=True, when=when)
    return case


def accept(case, who, note=""):
    """受理."""
    return _transition(case, as_actor(who), "accept", Status.ACCEPTED, allowed=STATES["accept"],
                       permission="handle_case", text=note)


def dispatch(case, who, *, department=None, contractor=None, assignee=None, note=""):
    """派单 to a department, a contractor and/or a person (again to re-dispatch)."""
    actor = as_actor(who)
    _require(department or contractor or assignee, _("请选择派单对象（部门、施工单位或处理人）。"), "required")
    return _transition(
        case, actor, "dispatch", Status.DISPATCHED,
        allowed=STATES["dispatch"],
        permission="dispatch_case", text=note,
        changes={"department": department, "contractor": contractor, "assignee": assignee,
                 "dispatched_at": timezone.now()},
        data={"department": getattr(department, "pk", None), "contractor": getattr(contractor, "pk", None),
              "assignee": getattr(assignee, "pk", None)},
    )


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


def complete(case, who, result):
    """完工, with the result the owner will read."""
    result = _clean_text(result, _("处理结果"))
    return _transition(case, as_actor(who), "complete", Status.COMPLETED,
                       allowed=STATES["complete"], permission="handle_case",
                       text=result, changes={"completed_at": timezone.now()})


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


def record_contact(case, who, *, reached, note="", visible_to_owner=False):
    """联系业主: a call or visit to book the work; stops the contact clock when reached."""
    actor = as_actor(who)
    note = _clean_text(note, _("联系情况"), required=not reached)
    with transaction.atomic():
        _require_permission(actor, "handle_case")
        case = _locked(case, actor)
        _require(case.status in STATES["contact"],
                 _("工单 %(number)s 当前状态为“%(status)s”，不能登记联系。")
                 % {"number": case.number, "status": case.get_status_display()}, "state")
        when = timezone.now()
        if reached:
            clocks.on_event(case, "contact", when)
        return _event(case, actor, "contact", type=CaseEvent.Type.CALL, text=note,
                      visible_to_owner=visible_to_owner, data={"reached": bool(reached)}, when=when)


def sign_off(case, who, *, accepted, reason=""):
    """业主验收: the owner accepts the finished repair, or rejects it with a reason — which
    reopens the case and escalates it (DOMAIN.md: a rejected sign-off goes to the quality
    manager, and the work to a third party)."""
    if not accepted:
        reason = _clean_text(reason, _("不满意的原因"))

    def changes(locked):
        if accepted:
            return {"status": Status.SIGNED_OFF}
        return {"status": Status.IN_PROGRESS, "escalation_level": min(locked.escalation_level + 1, MAX_ESCALATION)}

    return _transition(
        case, as_actor(who), "sign_off", None, allowed=STATES["sign_off"], permission="callback_case",
        reason=_("业主验收通过") if accepted else _("业主验收不通过：%(reason)s") % {"reason": reason},
        changes=changes, data={"accepted": bool(accepted)},
        clock_event=(None, {}) if accepted else ("reopen", {}),
    )


def callback(case, who, *, reached, score=None, remark=""):
    """回访: the call centre calls the owner back. Not reached: an attempt on the timeline.
    Reached: a score 1–5; below 3 reopens the case and escalates it; otherwise a signed-off
    repair is closed."""
    actor = as_actor(who)
    remark = _clean_text(remark, _("回访记录"), required=False)
    if not reached:
        with transaction.atomic():
            _require_permission(actor, "callback_case")
            case = _locked(case, actor)
            _require(case.status in STATES["callback"], _("工单 %(number)s 当前不需要回访。") % {"number": case.number}, "state")
            return _event(case, actor, "callback", type=CaseEvent.Type.CALL, text=remark or _("未接通"),
                          data={"reached": False})
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    _require(1 <= score <= 5, _("请给出 1 到 5 分的满意度评分。"), "score")
    low = score < LOW_SCORE

    def changes(locked):
        if low:
            return {"status": Status.IN_PROGRESS, "closed_at": None,
                    "escalation_level": min(locked.escalation_level + 1, MAX_ESCALATION)}
        if locked.status == Status.SIGNED_OFF:
            return {"status": Status.CLOSED, "closed_at": timezone.now()}
        return {}

    return _transition(
        case, actor, "callback", None, allowed=STATES["callback"], permission="callback_case",
        reason=_("回访 %(score)s 分") % {"score": score}, text=remark, visible_to_owner=False,
        changes=changes, data={"reached": True, "score": score, "reopened": low},
        clock_event=("reopen", {}) if low else ("callback", {"done": True}),
    )


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
        return {"original_contractor_id": locked.original_contractor_id or locked.contractor_id,
                "contractor": contractor, "dispatched_at": timezone.now()}

    return _transition(case, as_actor(who), "third_party", Status.DISPATCHED,
                       allowed=STATES["third_party"], permission="manage_case",
                       reason=reason, changes=changes,
                       data={"contractor": getattr(contractor, "pk", None)})


MAX_ESCALATION = 3
LOW_SCORE = 3
