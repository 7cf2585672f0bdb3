"""The verbs that change estates records outside a plain admin edit."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from plugins.signals import unit_handed_over

from . import scope
from .models import HandoverStatus, Unit


def _check_may_change(user, unit):
    """Staff need the change permission and the unit's project in their scope; ``None`` is the
    system (imports, scheduled jobs)."""
    if user is None:
        return
    if not (user.has_perm("estates.change_unit") and scope.in_scope(unit, user)):
        raise PermissionDenied(_("您没有权限办理房号 %(unit)s 的交付。") % {"unit": unit.label})


def record_handover(unit, handover_date, user, reason):
    """Mark ``unit`` handed over on ``handover_date``; one history row with user and reason;
    ``unit_handed_over`` is sent once the transaction has committed."""
    if not reason:
        raise ValidationError(_("请填写原因。"))
    with transaction.atomic():
        locked = Unit.objects.select_for_update().select_related("building").get(pk=unit.pk)
        _check_may_change(user, locked)
        if locked.handover_status == HandoverStatus.HANDED_OVER:
            raise ValidationError(_("房号 %(unit)s 已经交付，不能重复交付。") % {"unit": locked.label})
        locked.handover_status = HandoverStatus.HANDED_OVER
        locked.handover_date = handover_date
        locked._history_user = user
        locked._change_reason = reason
        locked.save()
        transaction.on_commit(
            lambda: unit_handed_over.send(
                sender=Unit, unit=locked, handover_date=handover_date, user=user, reason=reason
            )
        )
    return locked
