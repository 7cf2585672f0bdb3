from .calendars import WorkCalendar, WorkCalendarDay, WorkCalendarHours
from .cases import Case, CaseCounter, CaseEvent
from .choices import ActorType, Channel, ClockKind, ComplaintGrade, Kind, PauseReason, Priority, Status
from .sla import CaseClock, SLAPolicy, SLATarget, TargetUnit
from .taxonomy import Category

__all__ = [
    "ActorType",
    "Case",
    "CaseClock",
    "CaseCounter",
    "CaseEvent",
    "Category",
    "Channel",
    "ClockKind",
    "ComplaintGrade",
    "Kind",
    "PauseReason",
    "Priority",
    "SLAPolicy",
    "SLATarget",
    "Status",
    "TargetUnit",
    "WorkCalendar",
    "WorkCalendarDay",
    "WorkCalendarHours",
]
