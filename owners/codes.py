"""Owner sign-in by a one-time SMS code: 6 digits, 5 minutes' life, 5 tries, single use. The
code is sent straight through the SMS backend (never through the outbox, whose rows keep their
parameters) and only its keyed hash is stored. Rate limits per number and per IP belong to the
views, which have the request."""

import datetime
import hashlib
import hmac
import logging
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from estates.models import Owner
from estates.normalize import normalize_mobile
from notifications import conf as notification_conf
from notifications.channels import SmsChannel

from .models import SignInCode

logger = logging.getLogger(__name__)

DIGITS = 6
LIFETIME = datetime.timedelta(minutes=5)
MAX_TRIES = 5
#: The SMS template (NOTIFICATIONS["SMS_TEMPLATES"] maps it to the provider's approved code);
#: parameters: code, minutes.
SMS_TEMPLATE = "owner_sign_in_code"
CODE_RE = re.compile(rf"^\d{{{DIGITS}}}$")


class SignInError(Exception):
    """A refusal to show the owner, in their language; ``code`` names it for the caller."""

    def __init__(self, message, code):
        super().__init__(message)
        self.message, self.code = message, code


def normalize(text):
    """The 11-digit number, or SignInError with a message for the owner."""
    try:
        return normalize_mobile(text)
    except ValidationError:
        raise SignInError(_("请输入正确的 11 位手机号。"), "invalid_mobile") from None


def _hash(mobile, code, salt):
    key = hashlib.sha256(f"anju.owners.sign-in:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{salt}:{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def send_code(mobile_text, ip=None, now=None):
    """Send a new code to an owner's number; an earlier unused one stops working. Returns the
    stored row (without the code)."""
    now = now or timezone.now()
    mobile = normalize(mobile_text)
    if not Owner.objects.filter(mobile=mobile).exists():
        raise SignInError(_("该手机号没有登记为业主。请使用购房时登记的手机号，或致电客服更新。"), "unknown_mobile")
    code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
    salt = secrets.token_hex(16)
    with transaction.atomic():
        SignInCode.objects.filter(mobile=mobile, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        row = SignInCode.objects.create(
            mobile=mobile, code_hash=_hash(mobile, code, salt), salt=salt, ip=ip,
            created_at=now, expires_at=now + LIFETIME,
        )
    try:
        notification_conf.sms_backend().send(
            mobile, SmsChannel.template_code(SMS_TEMPLATE), {"code": code, "minutes": str(LIFETIME.seconds // 60)}
        )
    except Exception:
        logger.exception("sign-in code to %s****%s not sent", mobile[:3], mobile[-4:])
        SignInCode.objects.filter(pk=row.pk).update(expires_at=now)
        raise SignInError(_("短信发送失败，请稍后再试。"), "sms_failed") from None
    return row


def check_code(mobile_text, code_text, now=None):
    """The number's newest code, if ``code_text`` is it, unexpired, unused and within its tries:
    marks it used and returns the number. Otherwise raises SignInError; a wrong code counts a
    try, and that count is kept."""
    now = now or timezone.now()
    mobile = normalize(mobile_text)
    code = re.sub(r"\s", "", str(code_text or ""))
    if not CODE_RE.match(code):
        raise SignInError(_("请输入短信中的 6 位数字验证码。"), "invalid_code")
    with transaction.atomic():
        row = SignInCode.objects.select_for_update().filter(mobile=mobile).order_by("-created_at", "-pk").first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            refusal = SignInError(_("验证码已失效，请重新获取。"), "expired")
        elif row.attempts >= MAX_TRIES:
            refusal = SignInError(_("验证码错误次数过多，请重新获取。"), "too_many_tries")
        elif not hmac.compare_digest(row.code_hash, _hash(mobile, code, row.salt)):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            left = MAX_TRIES - row.attempts
            refusal = (SignInError(_("验证码不正确，还可以再试 %(left)s 次。") % {"left": left}, "wrong_code") if left
                       else SignInError(_("验证码错误次数过多，请重新获取。"), "too_many_tries"))
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
            refusal = None
    if refusal is not None:  # raised after the commit, so the counted try stays counted
        raise refusal
    return mobile
