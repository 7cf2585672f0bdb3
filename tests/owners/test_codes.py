"""owners/codes.py: one-time SMS codes for owner sign-in — 6 digits, 5 minutes, 5 tries,
single use, stored hashed."""

import datetime as dt

import pytest
import time_machine

from notifications.models import SmsRecord
from owners import codes
from owners.codes import SignInError, check_code, send_code
from owners.models import SignInCode
from tests.factories import OwnerFactory

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def owner(db):
    return OwnerFactory(mobile="13900139000")


def sent_code(mobile="13900139000"):
    return SmsRecord.objects.filter(mobile=mobile).order_by("-pk").first().params["code"]


def refusal(call, *args, **kwargs):
    with pytest.raises(SignInError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.code, excinfo.value.message


def test_a_code_is_six_digits_sent_by_sms_and_stored_only_as_a_hash(owner):
    row = send_code("+86 139-0013-9000", ip="10.0.0.1", now=NOW)
    record = SmsRecord.objects.get()
    code = record.params["code"]
    assert record.mobile == "13900139000" and record.template_code == codes.SMS_TEMPLATE
    assert len(code) == 6 and code.isdigit() and record.params["minutes"] == "5"
    row.refresh_from_db()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    assert row.expires_at == NOW + dt.timedelta(minutes=5) and str(row.ip) == "10.0.0.1"
    assert check_code("13900139000", code, now=NOW + dt.timedelta(minutes=1)) == "13900139000"


def test_the_same_code_on_two_rows_hashes_differently(owner):
    first = send_code(owner.mobile, now=NOW)
    second = send_code(owner.mobile, now=NOW)
    first.refresh_from_db()
    assert first.salt != second.salt and first.code_hash != second.code_hash


def test_a_code_lives_five_minutes(owner):
    send_code(owner.mobile, now=NOW)
    code = sent_code()
    assert refusal(check_code, owner.mobile, code, now=NOW + dt.timedelta(minutes=5))[0] == "expired"
    send_code(owner.mobile, now=NOW)
    assert check_code(owner.mobile, sent_code(), now=NOW + dt.timedelta(minutes=4, seconds=59))


def test_a_code_works_once(owner):
    send_code(owner.mobile, now=NOW)
    code = sent_code()
    check_code(owner.mobile, code, now=NOW)
    assert refusal(check_code, owner.mobile, code, now=NOW) == ("expired", "验证码已失效，请重新获取。")


def test_five_wrong_tries_end_the_code_even_for_the_right_one(owner):
    send_code(owner.mobile, now=NOW)
    code = sent_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    messages = [refusal(check_code, owner.mobile, wrong, now=NOW) for _ in range(5)]
    assert messages[0] == ("wrong_code", "验证码不正确，还可以再试 4 次。")
    assert messages[3] == ("wrong_code", "验证码不正确，还可以再试 1 次。")
    assert messages[4][0] == "too_many_tries"
    assert SignInCode.objects.get().attempts == 5  # counted, though each try was refused
    assert refusal(check_code, owner.mobile, code, now=NOW)[0] == "too_many_tries"


def test_a_new_code_replaces_the_old_one(owner):
    send_code(owner.mobile, now=NOW)
    old = sent_code()
    send_code(owner.mobile, now=NOW + dt.timedelta(seconds=70))
    new = sent_code()
    if old != new:
        assert refusal(check_code, owner.mobile, old, now=NOW + dt.timedelta(seconds=80))[0] == "wrong_code"
    assert check_code(owner.mobile, new, now=NOW + dt.timedelta(seconds=80))


def test_a_code_of_another_number_does_not_sign_this_one_in(owner):
    OwnerFactory(mobile="13700137000")
    send_code("13700137000", now=NOW)
    send_code(owner.mobile, now=NOW)
    other = sent_code("13700137000")
    mine = sent_code()
    if other != mine:
        assert refusal(check_code, owner.mobile, other, now=NOW)[0] == "wrong_code"


@pytest.mark.parametrize("mobile, expected", [
    ("12345", "invalid_mobile"), ("", "invalid_mobile"), ("13800000000", "unknown_mobile"),
])
def test_bad_numbers_are_refused_and_nothing_is_sent(owner, mobile, expected):
    code, message = refusal(send_code, mobile, now=NOW)
    assert code == expected and message
    assert not SignInCode.objects.exists() and not SmsRecord.objects.exists()


@pytest.mark.parametrize("text", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_a_malformed_code_is_refused_without_counting_a_try(owner, text):
    send_code(owner.mobile, now=NOW)
    assert refusal(check_code, owner.mobile, text, now=NOW)[0] == "invalid_code"
    assert SignInCode.objects.get().attempts == 0


def test_spaces_in_a_typed_code_are_ignored(owner):
    send_code(owner.mobile, now=NOW)
    code = sent_code()
    assert check_code(owner.mobile, f" {code[:3]} {code[3:]} ", now=NOW)


def test_no_code_sent_means_expired(owner):
    assert refusal(check_code, owner.mobile, "123456", now=NOW)[0] == "expired"


def test_a_failed_sms_leaves_no_usable_code(owner, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SMS_BACKEND": "tests.owners.test_codes.BrokenBackend"}
    assert refusal(send_code, owner.mobile, now=NOW) == ("sms_failed", "短信发送失败，请稍后再试。")
    row = SignInCode.objects.get()
    assert row.expires_at == NOW


class BrokenBackend:
    def send(self, mobile, template_code, params):
        raise ConnectionError("provider down")


def test_time_machine_is_not_needed_for_the_default_clock(owner):
    with time_machine.travel(NOW, tick=False):
        send_code(owner.mobile)
        assert check_code(owner.mobile, sent_code())
