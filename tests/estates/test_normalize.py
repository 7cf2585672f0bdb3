"""estates.normalize: what staff type or paste (mobiles, ID numbers, Excel cell values) is
cleaned the same way everywhere, and bad input gets a Chinese message (ARCHITECTURE.md
decision 5)."""

import hashlib
import hmac
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from estates.normalize import (
    MobileFormField,
    clean_text,
    hash_id_number,
    mask_mobile,
    normalize_id_number,
    normalize_mobile,
    parse_decimal,
    parse_int,
    validate_mobile,
)
from tests.factories import valid_id_number


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def error_of(func, value):
    with pytest.raises(ValidationError) as excinfo:
        func(value)
    error = excinfo.value
    return error.code, " ".join(error.messages)


# --- Mobiles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13900000001",
        " 13900000001 ",
        "+8613900000001",
        "+86 139 0000 0001",
        "+86 139-0000-0001",
        "+86-139-0000-0001",
        "(+86) 139 0000 0001",
        "0086 139 0000 0001",
        "008613900000001",
        "8613900000001",
        "139 0000 0001",
        "139-0000-0001",
        "１３９０００００００１",  # full-width digits (Chinese IME)
        "＋８６　１３９－００００－０００１",  # full-width plus, ideographic space, dashes
        13900000001,  # an Excel number cell read as int
        13900000001.0,  # … or as float
        "13900000001.0",  # … or that float written out as text by a CSV export
    ],
)
def test_mobile_accepts_every_common_form(raw):
    assert normalize_mobile(raw) == "13900000001"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1390000000",  # 10 digits
        "139000000012",  # 12 digits
        "12900000001",  # no mainland mobile starts 12
        "23900000001",
        "010-12345678",  # a landline
        "+1 415 555 0100",
        "+86 139 0000 000",
        "1390000000a",
        "13900000001.5",
        "手机13900000001",
    ],
)
def test_mobile_rejects_invalid_with_a_chinese_message(raw):
    code, message = error_of(normalize_mobile, raw)
    assert code == "invalid_mobile"
    assert "手机号" in message and "11 位" in message


def test_mobile_error_quotes_what_was_typed():
    _, message = error_of(normalize_mobile, "12345")
    assert "“12345”" in message


def test_validate_mobile_is_the_model_validator():
    validate_mobile("139 0000 0001")
    with pytest.raises(ValidationError):
        validate_mobile("12345")


@pytest.mark.parametrize("typed", ["+86 139-0000-0001", "0086 139 0000 0001", "１３９００００００01"])
def test_mobile_form_field_cleans_to_the_stored_form(typed):
    assert MobileFormField().clean(typed) == "13900000001"


def test_mobile_form_field_optional_and_invalid():
    assert MobileFormField(required=False).clean("") == ""
    with pytest.raises(ValidationError) as excinfo:
        MobileFormField().clean("")
    assert excinfo.value.code == "required"
    with pytest.raises(ValidationError) as excinfo:
        MobileFormField().clean("139 0000 000")
    assert excinfo.value.code == "invalid_mobile"


@pytest.mark.parametrize(
    "mobile, masked",
    [("13800138000", "138****8000"), ("", ""), (None, ""), ("12345", "12345")],
)
def test_mask_mobile(mobile, masked):
    assert mask_mobile(mobile) == masked


# --- ID numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, normalized",
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),  # lower-case x
        (" 110105 19491231 002X ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width
        (valid_id_number(7), valid_id_number(7)),
        (valid_id_number(12345), valid_id_number(12345)),
    ],
)
def test_id_number_valid_18_characters(raw, normalized):
    assert normalize_id_number(raw) == normalized


def test_factory_id_numbers_really_carry_an_x_check_digit_sometimes():
    # Guards the parametrisation above: one generated number ends in X and is accepted.
    with_x = next(valid_id_number(seed) for seed in range(200) if valid_id_number(seed).endswith("X"))
    assert normalize_id_number(with_x.lower()) == with_x


@pytest.mark.parametrize("raw", ["110105194912310021", "110105194912310020", "11010519491231002"  + "9"])
def test_id_number_wrong_check_digit(raw):
    code, message = error_of(normalize_id_number, raw)
    assert code == "id_checksum"
    assert "校验位" in message


@pytest.mark.parametrize(
    "raw",
    [
        "1.10101199003071E+17",
        "1.10101199003071e+17",
        "1.10101199003071E17",
        "  1.10101199003071E+17 ",
        1.10101199003071e17,  # the same cell read from an .xlsx as a float
        110101199003071008,  # … or as the int that float becomes: the last digits are lost
    ],
)
def test_id_number_excel_float_form_asks_to_format_the_column_as_text(raw):
    code, message = error_of(normalize_id_number, raw)
    assert code == "id_float"
    assert "科学计数法" in message and "文本" in message


@pytest.mark.parametrize(
    "raw",
    ["110105491231002", "１１０１０５４９１２３１００２", 110105491231002, 110105491231002.0],
)
def test_id_number_15_character_legacy(raw):
    # 15 digits fit Excel's precision, so a number cell still holds the whole legacy number.
    assert normalize_id_number(raw) == "110105491231002"


@pytest.mark.parametrize(
    "raw",
    ["", "11010519491231002", "1101051949123100211", "11010519491231002Y", "X10105194912310021", "身份证"],
)
def test_id_number_bad_format(raw):
    code, message = error_of(normalize_id_number, raw)
    assert code == "invalid_id"
    assert "18 位" in message


def test_id_hash_is_stable_and_is_hmac_sha256_under_the_settings_key(settings):
    settings.ID_HASH_KEY = "key-one"
    first = hash_id_number("11010519491231002X")
    assert first == hash_id_number("11010519491231002X")
    assert first == hmac.new(b"key-one", b"11010519491231002X", hashlib.sha256).hexdigest()
    assert len(first) == 64
    assert first != hash_id_number("110105194912310029")


def test_id_hash_depends_on_the_key():
    with override_settings(ID_HASH_KEY="key-one"):
        one = hash_id_number("11010519491231002X")
    with override_settings(ID_HASH_KEY="key-two"):
        two = hash_id_number("11010519491231002X")
    assert one != two


def test_id_hash_refuses_to_work_without_a_key():
    with override_settings(ID_HASH_KEY=""):
        with pytest.raises(RuntimeError):
            hash_id_number("11010519491231002X")


def test_same_id_typed_differently_hashes_the_same():
    assert hash_id_number(normalize_id_number("11010519491231002x")) == hash_id_number(
        normalize_id_number("１１０１０５１９４９１２３１００２Ｘ")
    )


# --- Excel cells --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, text",
    [(None, ""), ("", ""), ("  3号楼 ", "3号楼"), (1502.0, "1502"), (1502, "1502"), ("１５０２", "1502"), (89.5, "89.5")],
)
def test_clean_text(raw, text):
    assert clean_text(raw) == text


@pytest.mark.parametrize(
    "raw, value",
    [("89.5", Decimal("89.50")), (89.5, Decimal("89.50")), ("1,234.567", Decimal("1234.57")), ("", None), (None, None)],
)
def test_parse_decimal(raw, value):
    assert parse_decimal(raw, "建筑面积") == value


def test_parse_decimal_rejects_text_in_chinese():
    with pytest.raises(ValidationError) as excinfo:
        parse_decimal("八十九", "建筑面积")
    assert excinfo.value.code == "invalid_number"
    assert "建筑面积“八十九”不是数字" in excinfo.value.messages[0]


@pytest.mark.parametrize("raw, value", [("15", 15), (15.0, 15), ("15.0", 15), ("-1", -1), ("", None)])
def test_parse_int(raw, value):
    assert parse_int(raw, "楼层") == value


@pytest.mark.parametrize("raw", ["15.5", "十五", "15层"])
def test_parse_int_rejects_non_integers_in_chinese(raw):
    with pytest.raises(ValidationError) as excinfo:
        parse_int(raw, "楼层")
    assert excinfo.value.code == "invalid_integer"
    assert "不是整数" in excinfo.value.messages[0]
