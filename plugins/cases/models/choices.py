"""The vocabularies a case is described in (DOMAIN.md, step 5)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    REPAIR = "repair", _("报修")
    COMPLAINT = "complaint", _("投诉")
    ENQUIRY = "enquiry", _("咨询")


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("客服热线")
    WALK_IN = "walk_in", _("来访")
    WEB = "web", _("网上报事")
    QR = "qr", _("扫码报事")
    PROPERTY = "property", _("物业转办")
    INSPECTION = "inspection", _("验房")
    WARRANTY = "warranty", _("保修期回访")
    SALES = "sales", _("案场")


class Priority(models.TextChoices):
    EMERGENCY = "emergency", _("紧急")
    URGENT = "urgent", _("加急")
    NORMAL = "normal", _("一般")


class ComplaintGrade(models.TextChoices):
    GENERAL = "general", _("一般投诉")
    SERIOUS = "serious", _("重要投诉")
    MAJOR = "major", _("重大投诉")


class Status(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ACCEPTED = "accepted", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    IN_PROGRESS = "in_progress", _("处理中")
    PAUSED = "paused", _("暂停")
    COMPLETED = "completed", _("待验收")
    SIGNED_OFF = "signed_off", _("待回访")
    CLOSED = "closed", _("已关闭")
    CANCELLED = "cancelled", _("已取消")


OPEN_STATUSES = frozenset(
    {Status.REGISTERED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.PAUSED}
)


class ClockKind(models.TextChoices):
    """The clocks a case can carry (ARCHITECTURE.md decision 7)."""

    ACKNOWLEDGEMENT = "acknowledgement", _("受理确认")
    CONTACT = "contact", _("联系业主")
    ANSWER = "answer", _("答复业主")
    DEPARTMENT_REPLY = "department_reply", _("部门回复")
    ON_SITE = "on_site", _("到场")
    RESOLUTION = "resolution", _("办结")
    CALLBACK = "callback", _("回访")
    RECHECK = "recheck", _("现场复核")


class ActorType(models.TextChoices):
    STAFF = "staff", _("员工")
    OWNER = "owner", _("业主")
    CONTRACTOR = "contractor", _("施工单位")
    SYSTEM = "system", _("系统")


class PauseReason(models.TextChoices):
    WAITING_FOR_OWNER = "owner", _("等待业主")
    WAITING_FOR_PARTS = "parts", _("等待材料")


# Waiting for the owner pauses every running clock; waiting for parts pauses none (DOMAIN.md).
PAUSING_REASONS = frozenset({PauseReason.WAITING_FOR_OWNER})
