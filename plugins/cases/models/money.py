"""Money on a case: compensation paid to an owner (赔付), approved by a second person, and the
ledger of third-party costs charged to a contractor's warranty deposit (质保金台账)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from estates.models import Contractor

from .cases import Case, ImmutableRecord

MONEY = {"max_digits": 12, "decimal_places": 2}


class Compensation(models.Model):
    """赔付: an amount paid to the owner for a case, with its reason. Requested by one staff
    member, approved or rejected by another (never the requester): the second pair of eyes the
    seeds ask for before money leaves the company."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="compensations", verbose_name=_("工单"))
    amount = models.DecimalField(_("金额(元)"), validators=[MinValueValidator(0.01)], **MONEY)
    reason = models.TextField(_("赔付原因"), max_length=2000)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), max_length=2000, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("赔付")
        verbose_name_plural = _("赔付")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="compensation_amount_positive"),
            # The database itself refuses a requester approving their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="compensation_second_person",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} ¥{self.amount}"


class DepositCharge(ImmutableRecord):
    """One line of a contractor's warranty-deposit ledger: the cost of work a third party did
    because the contractor used up its one chance, with the evidence. Never edited nor deleted;
    a mistake is put right by a further line with the opposite amount (``corrects``)."""

    contractor = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, related_name="deposit_charges", verbose_name=_("扣款单位")
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deposit_charges", verbose_name=_("工单"))
    third_party = models.ForeignKey(
        Contractor, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("第三方施工单位"),
    )
    amount = models.DecimalField(_("金额(元)"), **MONEY, help_text=_("扣款为正数，冲正为负数"))
    evidence = models.TextField(_("依据"), max_length=2000)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections",
        verbose_name=_("冲正的记录"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    immutable_message = _("质保金台账记录写入后不能修改或删除，如有错误请登记冲正。")

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("质保金扣款")
        verbose_name_plural = _("质保金台账")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="deposit_charge_not_zero")]

    def __str__(self):
        return f"{self.contractor} ¥{self.amount}"
