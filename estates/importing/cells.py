"""One spreadsheet cell → one clean Python value, or a CellError with a Chinese message.

Cells come from openpyxl (str, int, float, bool, datetime) or from a CSV (str). Every parser
returns None for an empty cell; whether a value is required is the caller's business.
"""

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from estates.normalize import (
    clean_text,
    hash_id_number,
    normalize_id_number,
    normalize_mobile,
    parse_decimal,
    parse_int,
)

DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
FLOAT_TEXT_RE = re.compile(r"^\d+\.0+$")
COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
#: Excel date serials for 1954-10-03 … 2119-01-08: a date cell Excel left unformatted.
EXCEL_SERIAL_RANGE = (20000, 80000)
LIST_SEPARATORS_RE = re.compile(r"[、,，;；/\n]+")
UNIT_SUFFIXES_RE = re.compile(r"(平方米|平米|㎡|m²|m2|元)$", re.IGNORECASE)
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "主"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "x"}


class CellError(Exception):
    """A cell that cannot be used; ``message`` is shown to the clerk as it is. ``column`` (a
    schema.Column) names the column when the error is found after parsing, e.g. an unknown
    building."""

    def __init__(self, message, column=None):
        super().__init__(message)
        self.message = message
        self.column = column


def _message(error):
    return " ".join(error.messages)


def text(value, label, max_length):
    result = clean_text(value)
    if not result:
        return None
    if len(result) > max_length:
        raise CellError(
            _("%(field)s“%(value)s”太长：最多 %(max)s 个字。")
            % {"field": label, "value": result[:20] + "…", "max": max_length}
        )
    return result


def code(value, label, max_length, suffix=""):
    """A short code typed by people: "2单元" → "2" when ``suffix`` is "单元"; "1502.0" (a
    number that went through a float on its way to a CSV) → "1502"."""
    result = text(value, label, max_length)
    if result and FLOAT_TEXT_RE.match(result):
        result = result.split(".")[0]
    if result and suffix and result.endswith(suffix) and len(result) > len(suffix):
        result = result[: -len(suffix)].strip()
    return result or None


def integer(value, label, minimum, maximum):
    try:
        result = parse_int(value, label)
    except ValidationError as error:
        raise CellError(_message(error)) from None
    if result is not None and not minimum <= result <= maximum:
        raise CellError(
            _("%(field)s“%(value)s”超出范围（%(min)s～%(max)s）。")
            % {"field": label, "value": result, "min": minimum, "max": maximum}
        )
    return result


def decimal(value, label, max_digits, minimum=Decimal(0)):
    """A money or area amount with 2 decimals; "89.5㎡" and "50,000元" are accepted."""
    if isinstance(value, str):
        value = UNIT_SUFFIXES_RE.sub("", clean_text(value))
    try:
        result = parse_decimal(value, label)
    except ValidationError as error:
        raise CellError(_message(error)) from None
    if result is None:
        return None
    limit = Decimal(10) ** (max_digits - 2)
    if not result.is_finite() or result < minimum or result >= limit:
        raise CellError(
            _("%(field)s“%(value)s”超出范围（%(min)s～%(max)s）。")
            % {"field": label, "value": clean_text(value), "min": minimum, "max": limit - Decimal("0.01")}
        )
    return result


def date(value, label):
    """Datetime/date cells, Excel serials and text such as 2026-03-01, 2026/3/1, 2026年3月1日."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if EXCEL_SERIAL_RANGE[0] <= value <= EXCEL_SERIAL_RANGE[1]:
            return from_excel(value).date()
    raw = clean_text(value)
    if not raw:
        return None
    match = DATE_RE.match(raw) or COMPACT_DATE_RE.match(raw)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(
        _("%(field)s“%(value)s”不是有效日期，请写成 2026-03-01 或 2026/3/1。")
        % {"field": label, "value": raw}
    )


def boolean(value, label):
    if isinstance(value, bool):
        return value
    raw = clean_text(value).lower()
    if not raw:
        return None
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise CellError(_("%(field)s“%(value)s”只能填“是”或“否”。") % {"field": label, "value": raw})


def choice(value, label, choices):
    """``choices``: (stored value, display label) pairs; either form is accepted."""
    raw = clean_text(value)
    if not raw:
        return None
    for stored, display in choices:
        if raw == str(display) or raw.lower() == stored:
            return stored
    raise CellError(
        _("%(field)s“%(value)s”无效，可填：%(choices)s。")
        % {"field": label, "value": raw, "choices": "、".join(str(d) for _s, d in choices)}
    )


def mobile(value):
    if not clean_text(value):
        return None
    try:
        return normalize_mobile(value)
    except ValidationError as error:
        raise CellError(_message(error)) from None


def id_number(value):
    """Return (id_hash, last 4 characters). The number itself never leaves this function, and
    error messages show only its last 4 characters."""
    if isinstance(value, float):
        # A number cell: Excel keeps 15 digits, so an 18-digit ID has already lost its tail.
        # Written as Excel shows it (1.10101199003071E+17), it gets normalize's "text format" hint.
        value = f"{value:.14E}"
    raw = clean_text(value)
    if not raw:
        return None
    try:
        normalized = normalize_id_number(value)
    except ValidationError as error:
        shown = raw if error.code == "id_float" else mask_id(raw)
        raise CellError(error.message % dict(error.params or {}, value=shown)) from None
    return hash_id_number(normalized), normalized[-4:]


def mask_id(raw):
    return "*" * max(len(raw) - 4, 0) + raw[-4:]


def email(value, label, max_length=254):
    result = text(value, label, max_length)
    if result is None:
        return None
    try:
        validate_email(result)
    except ValidationError:
        raise CellError(_("%(field)s“%(value)s”不是有效的邮箱地址。") % {"field": label, "value": result}) from None
    return result


def name_list(value):
    """"水电、防水" → ["水电", "防水"]; separators: 、 , ， ; ； / and new lines."""
    raw = clean_text(value)
    if not raw:
        return None
    names = [part.strip() for part in LIST_SEPARATORS_RE.split(raw)]
    return [name for name in dict.fromkeys(names) if name] or None
