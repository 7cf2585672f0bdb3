from .attachments import CaseAttachment
from .calendars import WorkCalendar, WorkCalendarDay, WorkCalendarHours
from .cases import Case, CaseCounter, CaseEvent
from .choices import ActorType, Channel, ClockKind, ComplaintGrade, Kind, PauseReason, Priority, Status
from .digest import ComplaintDigest, DigestReceipt, DigestSettings
from .links import WorkLink
from .money import Compensation, DepositCharge
from .rollups import CaseRollup, Dimension, RollupMark, RollupState
from .routing import RoutingRule, StandardReply
from .sla import CaseClock, SLAPolicy, SLATarget, TargetUnit
from .taxonomy import Category

__all__ = [
    "ActorType",
    "Case",
    "CaseAttachment",
    "CaseClock",
    "CaseCounter",
    "CaseEvent",
    "CaseRollup",
    "Category",
    "Channel",
    "ClockKind",
    "Compensation",
    "ComplaintDigest",
    "ComplaintGrade",
    "DepositCharge",
    "DigestReceipt",
    "DigestSettings",
    "Dimension",
    "Kind",
    "PauseReason",
    "RollupMark",
    "RollupState",
    "Priority",
    "RoutingRule",
    "SLAPolicy",
    "SLATarget",
    "StandardReply",
    "Status",
    "TargetUnit",
    "WorkCalendar",
    "WorkCalendarDay",
    "WorkCalendarHours",
    "WorkLink",
]
