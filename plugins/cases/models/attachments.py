"""Photos and files of a case (ARCHITECTURE.md decision 10): private storage only, served by a
view that checks permission, never Wagtail's image library."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms.uploads import private_storage

from .cases import Case
from .choices import ActorType


class CaseAttachment(models.Model):
    """One photo or file on a case, with who added it and whether the owner may see it."""

    class Purpose(models.TextChoices):
        REPORT = "report", _("报事照片")
        BEFORE = "before", _("维修前")
        AFTER = "after", _("维修后")
        EVIDENCE = "evidence", _("凭证")
        OTHER = "other", _("其他")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("工单"))
    file = models.FileField(_("文件"), storage=private_storage, max_length=255)
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("类型"), max_length=80)
    size = models.PositiveIntegerField(_("大小"))
    purpose = models.CharField(_("用途"), max_length=20, choices=Purpose.choices, default=Purpose.OTHER)
    visible_to_owner = models.BooleanField(_("业主可见"), default=False)
    actor_type = models.CharField(_("上传方"), max_length=20, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("上传人"),
    )
    actor_name = models.CharField(_("上传人姓名"), max_length=100, blank=True)
    # Where a copied file came from ("forms.photo:31"), so a re-delivered submission copies once.
    source = models.CharField(_("来源"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "source"], condition=~Q(source=""), name="case_attachment_unique_source"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_image(self):
        return self.content_type.startswith("image/")
