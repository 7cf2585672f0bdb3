from django.db import models
from django.utils.translation import gettext_lazy as _


class HandoverNote(models.Model):
    """One row per unit handed over, written by the plugin's ``unit_handed_over`` receiver."""

    unit = models.ForeignKey(
        "estates.Unit", on_delete=models.CASCADE, related_name="+", verbose_name=_("房号")
    )
    handover_date = models.DateField(_("交付日期"))
    greeting = models.CharField(_("问候语"), max_length=100)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("交付记录")
        verbose_name_plural = _("交付记录")

    def __str__(self):
        return f"{self.unit} {self.handover_date}"
