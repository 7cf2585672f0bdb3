from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import Kind


class Category(models.Model):
    """A case category, two levels deep (日常维修 → 水电), per kind; edited in the admin, the
    shipped tree is created on migrate."""

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("上级分类"),
    )
    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    # Water, power, lift, fire: dispatched at once, on the 24×7 emergency clocks.
    emergency = models.BooleanField(_("紧急类"), default=False, help_text=_("如停水、停电、电梯困人、火情：立即派单"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "sort_order", "code"]
        verbose_name = _("工单分类")
        verbose_name_plural = _("工单分类")

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name
