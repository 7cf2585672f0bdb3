"""The outbox (ARCHITECTURE.md decision 9): one row per message, recipient and channel, under a
unique key, so a repeated sweep never sends twice. Channels deliver from here; the admin inbox
reads it directly."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ADMIN = "admin", _("后台通知")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class Status(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("已跳过")


class Message(models.Model):
    """One message to one recipient over one channel.

    ``recipient`` names who it is for and is part of the unique key: ``user:<pk>`` for a staff
    user, else the mobile or email address itself (owners and contractors are not users).
    ``address`` is where the channel delivers it, fixed when the message is written.
    """

    key = models.CharField(_("去重键"), max_length=200)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    recipient = models.CharField(_("收件人"), max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("员工"),
    )
    address = models.CharField(_("发送地址"), max_length=254, blank=True)
    template = models.CharField(_("模板"), max_length=100)
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    subject = models.CharField(_("标题"), max_length=255, blank=True)
    body = models.TextField(_("正文"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    not_before = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "recipient", "channel"], name="notification_once_per_key"
            ),
        ]
        indexes = [
            # The delivery queue: due pending messages, oldest first.
            models.Index(
                fields=["not_before"],
                condition=Q(status="pending"),
                name="notification_due",
            ),
            # The inbox list and its unread count.
            models.Index(fields=["user", "channel", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["user"],
                condition=Q(channel="admin", read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self):
        return f"{self.key} → {self.recipient} ({self.get_channel_display()})"


class SmsRecord(models.Model):
    """What the database SMS backend would have sent (development and tests)."""

    mobile = models.CharField(_("手机号"), max_length=20)
    template_code = models.CharField(_("短信模板编号"), max_length=100)
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("短信记录（开发用）")
        verbose_name_plural = _("短信记录（开发用）")

    def __str__(self):
        return f"{self.mobile} {self.template_code}"
