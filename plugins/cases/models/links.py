"""A contractor's work link (派工链接): one case, one contractor, no account needed."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from estates.models import Contractor

from .cases import Case


class WorkLink(models.Model):
    """The signed link sent to a contractor when a case is dispatched to them
    (plugins/cases/worklinks.py). The token carries this row's id and ``nonce`` under a
    signature; the row makes the link revocable and expiring. A new dispatch or hand-over
    revokes the case's earlier links, so a forwarded old SMS opens nothing."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="work_links", verbose_name=_("工单"))
    contractor = models.ForeignKey(
        Contractor, on_delete=models.CASCADE, related_name="work_links", verbose_name=_("施工单位")
    )
    nonce = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("生成人"),
    )
    expires_at = models.DateTimeField(_("失效时间"))
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("作废原因"), max_length=200, blank=True)
    opened_at = models.DateTimeField(_("首次打开"), null=True, blank=True)
    number_shown_at = models.DateTimeField(_("查看业主电话"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("派工链接")
        verbose_name_plural = _("派工链接")
        indexes = [models.Index(fields=["case", "-created_at"], name="work_link_case")]

    def __str__(self):
        return f"{self.case_id} → {self.contractor_id} ({self.created_at:%Y-%m-%d %H:%M})"

    def live(self, now=None):
        return self.revoked_at is None and (now or timezone.now()) < self.expires_at
