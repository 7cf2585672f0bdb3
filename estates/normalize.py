"""Cleaning and validating what people type or paste: mobiles, ID numbers, Excel cell values.

One place for these rules so forms, the Excel import and commands agree. Error messages are
Chinese-first through gettext.
"""

import hashlib
import hmac
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
FLOAT_EXPONENT_RE = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
TRAILING_FLOAT_ZERO_RE = re.compile(r"\.0+$")
#: Excel keeps 15 significant digits; a longer number read from a number cell has lost its tail.
EXCEL_EXACT_DIGITS = 15


def clean_text(value):
    """Full-width to half-width (NFKC), surrounding spaces trimmed; "" for empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores "1502" typed in a number cell as 1502.0.
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text


def normalize_mobile(value):
    """Return the 11-digit mainland mobile number or raise ValidationError.

    Accepts +86 / 0086 / 86 prefixes, spaces, dashes, brackets, full-width digits and the
    float form Excel gives a number cell (13800138000.0).
    """
    text = clean_text(value)
    # "13800138000.0": the float Excel gives a number cell, written out as text (CSV exports).
    digits = TRAILING_FLOAT_ZERO_RE.sub("", text)
    digits = re.sub(r"[\s\-()（）.]", "", digits)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE_RE.match(digits):
        raise ValidationError(
            _("手机号“%(value)s”无效：应为 11 位中国大陆手机号，如 13800138000。"),
            code="invalid_mobile",
            params={"value": text},
        )
    return digits


def validate_mobile(value):
    normalize_mobile(value)


class MobileFormField(forms.CharField):
    """A form field for a mainland mobile: takes it however it is typed ("+86 139-0000-0001",
    full-width digits …) and cleans it to the 11 digits the models store."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return normalize_mobile(value) if value else value


def mask_mobile(mobile):
    """138****8000 — for public pages."""
    if not mobile or len(mobile) < 7:
        return mobile or ""
    return f"{mobile[:3]}****{mobile[-4:]}"


def normalize_id_number(value):
    """Return an upper-cased 18-character resident ID (check digit verified, GB 11643) or a
    15-character legacy one; raise ValidationError otherwise."""
    text = clean_text(value).upper().replace(" ", "")
    if _excel_number_lost_digits(value) or FLOAT_EXPONENT_RE.match(text):
        raise ValidationError(
            _("身份证号“%(value)s”被 Excel 存成了科学计数法，请把该列设为“文本”格式后重新录入。"),
            code="id_float",
            params={"value": text},
        )
    if re.fullmatch(r"\d{15}", text):
        return text
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise ValidationError(
            _("身份证号“%(value)s”格式不对：应为 18 位（最后一位可为 X）。"),
            code="invalid_id",
            params={"value": text},
        )
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], ID_WEIGHTS))
    if ID_CHECK_CHARS[total % 11] != text[17]:
        raise ValidationError(
            _("身份证号“%(value)s”校验位不对，请核对。"),
            code="id_checksum",
            params={"value": text},
        )
    return text


def _excel_number_lost_digits(value):
    """An ID number read from an Excel number cell (a float, or the int it was rounded to) has
    lost its last digits as soon as it is longer than Excel's 15 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not value.is_integer():
        return True
    return len(str(abs(int(value)))) > EXCEL_EXACT_DIGITS


def hash_id_number(normalized):
    """HMAC-SHA256 of a normalised ID number under settings.ID_HASH_KEY (hex)."""
    key = settings.ID_HASH_KEY
    if not key:
        raise RuntimeError("ID_HASH_KEY is not set")
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()


def parse_decimal(value, field_label):
    text = clean_text(value).replace(",", "")
    if text == "":
        return None
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError(
            _("%(field)s“%(value)s”不是数字。"),
            code="invalid_number",
            params={"field": field_label, "value": text},
        )


def parse_int(value, field_label):
    text = clean_text(value)
    if text == "":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or number != number.to_integral_value():
        raise ValidationError(
            _("%(field)s“%(value)s”不是整数。"),
            code="invalid_integer",
            params={"field": field_label, "value": text},
        )
    return int(number)
