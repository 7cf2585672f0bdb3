"""The daily complaint digest (每日投诉简报, DOMAIN.md step 7): yesterday's complaints frozen at
publishing, one read receipt per recipient, and the rules (time, chase delay, recipients,
email) as one row an administrator edits in the admin (ARCHITECTURE.md decision 2).

The work is in plugins/cases/digest.py; the screens in plugins/cases/digest_views.py.
"""

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import IntegrityError, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_PUBLISH_TIME = dt.time(8, 30)
DEFAULT_CHASE_MINUTES = 60
CHASE_MESSAGE = _("未读催办延迟必须是至少 1 分钟的整数。")


class DigestSettings(models.Model):
    """The single row of rules for the digest. ``load()`` reads it (and creates it with the
    shipped defaults if an administrator's database somehow has none)."""

    enabled = models.BooleanField(_("每天发布"), default=True, help_text=_("关闭后不再发布新的简报；已发布简报的未读催办照常进行。"))
    publish_time = models.TimeField(
        _("发布时间"), default=DEFAULT_PUBLISH_TIME,
        help_text=_("北京时间，每天到点后发布前一天的投诉简报，例如 08:30。"),
    )
    chase_minutes = models.PositiveIntegerField(
        _("未读催办延迟（分钟）"), default=DEFAULT_CHASE_MINUTES,
        validators=[MinValueValidator(1, message=CHASE_MESSAGE)],
        help_text=_("发布后过这么多分钟，把仍未阅读的员工名单发给其上级（无上级的发给客服经理）。"),
    )
    send_email = models.BooleanField(_("同时发送电子邮件"), default=True,
                                     help_text=_("关闭后只发后台通知。"))
    groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="+", verbose_name=_("接收人员组"),
        help_text=_("留空：发给全部在职员工（已登记员工服务范围的账号）；选择后只发给这些组里的员工。"),
    )

    class Meta:
        verbose_name = _("每日投诉简报设置")
        verbose_name_plural = _("每日投诉简报设置")
        constraints = [
            models.CheckConstraint(condition=Q(chase_minutes__gte=1), name="digest_chase_positive"),
        ]

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls):
        row = cls.objects.order_by("pk").first()
        if row is None:
            try:
                row, _created = cls.objects.get_or_create(pk=1)
            except IntegrityError:  # created by a concurrent load
                row = cls.objects.get(pk=1)
        return row

    @property
    def chase_delay(self):
        return dt.timedelta(minutes=self.chase_minutes)


class ComplaintDigest(models.Model):
    """The digest of one Asia/Shanghai day's complaints, as they stood when it was published.

    ``rows`` is the frozen snapshot, one dict per complaint in registration order: ``case``
    (pk), ``number``, ``project`` (pk), ``project_name``, ``category``, ``grade``,
    ``grade_label``, ``status``, ``status_label``, ``words`` (the owner's words, shortened) and
    ``registered_at``. ``counts`` holds ``projects`` ({project pk: n}) and ``grades``
    ({grade: n}), so a list can count a reader's rows without reading them. A case changed
    later never changes a published digest; each reader sees only the rows of their projects
    (estates.scope), filtered when shown."""

    day = models.DateField(_("日期"), unique=True)
    published_at = models.DateTimeField(_("发布时间"))
    chase_at = models.DateTimeField(_("未读催办时间"))
    chased_at = models.DateTimeField(_("已催办时间"), null=True, blank=True)
    total = models.PositiveIntegerField(_("投诉件数"), default=0)
    rows = models.JSONField(_("简报内容"), default=list, blank=True)
    counts = models.JSONField(_("统计"), default=dict, blank=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("每日投诉简报")
        verbose_name_plural = _("每日投诉简报")
        indexes = [
            # The sweep's "chase now?": digests not chased yet, by when they are due.
            models.Index(fields=["chase_at"], condition=Q(chased_at__isnull=True), name="digest_chase_due"),
        ]

    def __str__(self):
        return _("每日投诉简报 %(day)s") % {"day": self.day.isoformat()}


class DigestReceipt(models.Model):
    """One recipient of one digest, written for every recipient when it is published; the
    first opening is recorded once and never changed afterwards, so "who has not read it" is
    ``first_opened_at IS NULL``."""

    digest = models.ForeignKey(ComplaintDigest, on_delete=models.CASCADE, related_name="receipts",
                               verbose_name=_("简报"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_receipts",
                             verbose_name=_("员工"))
    first_opened_at = models.DateTimeField(_("首次阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("简报阅读记录")
        verbose_name_plural = _("简报阅读记录")
        constraints = [
            models.UniqueConstraint(fields=["digest", "user"], name="digest_receipt_once"),
        ]
        indexes = [
            # A reader's digests (the list, the home panel).
            models.Index(fields=["user", "digest"], name="digest_receipt_user"),
        ]

    def __str__(self):
        return f"{self.digest_id} → {self.user_id}"
