"""Owner sign-in by SMS code (ARCHITECTURE.md decision 4: owners are not Django users)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInCode(models.Model):
    """One code sent to a mobile number. Only its keyed hash is kept (owners/codes.py); the code
    itself lives in the SMS alone. Single use: ``used_at`` is set by the sign-in it allowed."""

    mobile = models.CharField(_("手机号"), max_length=11)
    code_hash = models.CharField(max_length=64, editable=False)
    salt = models.CharField(max_length=32, editable=False)
    ip = models.GenericIPAddressField(_("请求 IP"), null=True, blank=True)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [models.Index(fields=["mobile", "-created_at"], name="signin_code_latest")]

    def __str__(self):
        return f"{self.mobile[:3]}****{self.mobile[-4:]} {self.created_at:%Y-%m-%d %H:%M}"
