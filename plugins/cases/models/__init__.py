from .calendars import WorkCalendar, WorkCalendarDay, WorkCalendarHours
from .cases import Case, CaseCounter, CaseEvent
from .choices import ActorType, Channel, ClockKind, ComplaintGrade, Kind, PauseReason, Priority, Status
from .taxonomy import Category

__all__ = [
    "ActorType",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "Category",
    "Channel",
    "ClockKind",
    "ComplaintGrade",
    "Kind",
    "PauseReason",
    "Priority",
    "Status",
    "WorkCalendar",
    "WorkCalendarDay",
    "WorkCalendarHours",
]
