"""Where a case stands, in the owner's words: the steps of its kind, the current one, and what
the owner is promised next (the due time of the clock that matters to them)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import ActorType, ClockKind, Kind, Status

REPAIR_STEPS = (
    (_("已提交"), {Status.REGISTERED}),
    (_("已受理"), {Status.ACCEPTED}),
    (_("已派单"), {Status.DISPATCHED}),
    (_("维修中"), {Status.IN_PROGRESS, Status.PAUSED}),
    (_("待您验收"), {Status.COMPLETED}),
    (_("待评价"), {Status.SIGNED_OFF}),
    (_("已完成"), {Status.CLOSED}),
)
OTHER_STEPS = (
    (_("已提交"), {Status.REGISTERED}),
    (_("已受理"), {Status.ACCEPTED}),
    (_("处理中"), {Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED}),
    (_("已答复"), {Status.COMPLETED, Status.SIGNED_OFF}),
    (_("已完成"), {Status.CLOSED}),
)

#: The running clocks an owner is told about, first match wins.
PROMISES = (
    (ClockKind.CONTACT, _("维修人员将于 %(due)s 前与您联系")),
    (ClockKind.ANSWER, _("客服将于 %(due)s 前答复您")),
    (ClockKind.RESOLUTION, _("预计于 %(due)s 前处理完毕")),
)


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # "done", "current" or "todo"


def steps(case):
    """The steps of ``case``'s kind with the current one marked; a cancelled case has none."""
    if case.status == Status.CANCELLED:
        return []
    table = REPAIR_STEPS if case.kind == Kind.REPAIR else OTHER_STEPS
    current = next((i for i, (_label, states) in enumerate(table) if case.status in states), 0)
    return [Step(str(label), "done" if i < current else "current" if i == current else "todo")
            for i, (label, _states) in enumerate(table)]


def promise(running_clocks):
    """The owner's next promise from the case's running clocks ({clock: due_at}), or ""."""
    from django.utils import timezone

    for clock, text in PROMISES:
        due = running_clocks.get(clock)
        if due is not None:
            return str(text) % {"due": f"{timezone.localtime(due):%m-%d %H:%M}"}
    return ""


def actor_label(actor_type, actor_name, viewer=ActorType.OWNER):
    """Who did it, as an owner (or a contractor) may read it: staff are "客服", never a name."""
    if actor_type == ActorType.OWNER:
        return str(_("您")) if viewer == ActorType.OWNER else str(_("业主"))
    if actor_type == ActorType.CONTRACTOR:
        return actor_name or str(_("维修单位"))
    if actor_type == ActorType.STAFF:
        return str(_("客服"))
    return str(_("系统"))
