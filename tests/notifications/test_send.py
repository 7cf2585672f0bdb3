"""send(): one outbox row per key, recipient and channel, written exactly once."""

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from notifications import services
from notifications.models import Message, SmsRecord, Status
from tests import factories

pytestmark = pytest.mark.django_db

CONTEXT = {"subject": "工单 BX20261123-0007 即将超时", "body": "请在 2 小时内处理。"}


def test_a_second_send_with_the_same_key_writes_and_delivers_nothing(
    staff, at_noon, django_capture_on_commit_callbacks
):
    key = "case:812:resolution:remind"
    with django_capture_on_commit_callbacks(execute=True):
        first = services.send(key, [staff, "13800138000"], "generic", CONTEXT, channels=["admin", "email", "sms"])
    assert [(m.recipient, m.channel) for m in first] == [
        (f"user:{staff.pk}", "admin"),
        (f"user:{staff.pk}", "email"),
        (f"user:{staff.pk}", "sms"),
        ("13800138000", "sms"),
    ]
    assert all(m.status == Status.SENT for m in Message.objects.all())
    assert len(mail.outbox) == 1
    assert SmsRecord.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = services.send(key, [staff, "13800138000"], "generic", {"subject": "另一条"},
                               channels=["admin", "email", "sms"])
    assert [m.pk for m in second] == [m.pk for m in first]
    assert callbacks == []
    assert Message.objects.count() == 4
    assert len(mail.outbox) == 1 and SmsRecord.objects.count() == 2
    assert Message.objects.filter(subject="另一条").count() == 0


def test_the_same_key_reaches_a_recipient_added_later_once(staff, django_capture_on_commit_callbacks):
    other = factories.UserFactory(email="li@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.send("case:1:breach", [staff], "generic", CONTEXT, channels=["admin"])
        services.send("case:1:breach", [staff, other], "generic", CONTEXT, channels=["admin"])
        services.send("case:1:breach", [other, staff], "generic", CONTEXT, channels=["admin"])
    assert sorted(Message.objects.values_list("user", flat=True)) == sorted([staff.pk, other.pk])


def test_duplicate_recipients_in_one_call_get_one_message(staff):
    rows = services.send("k:dup", [staff, staff, "138 0013 8000", "+86 13800138000"], "generic", CONTEXT,
                         channels=["admin", "sms"])
    assert len(rows) == 3 and Message.objects.count() == 3


def test_default_channels_follow_the_recipient(staff):
    rows = services.send("k:defaults", [staff, "13800138000", "owner@example.com", "", None], "generic", CONTEXT)
    assert [(m.recipient, m.channel) for m in rows] == [
        (f"user:{staff.pk}", "admin"),
        (f"user:{staff.pk}", "email"),
        ("13800138000", "sms"),
        ("owner@example.com", "email"),
    ]
    assert [m.address for m in rows] == ["", "zhangwei@example.com", "13800138000", "owner@example.com"]


def test_a_raw_address_only_gets_the_channels_of_its_kind(staff):
    rows = services.send("k:kinds", ["13800138000", "owner@example.com"], "generic", CONTEXT, channels=["admin", "sms"])
    assert [(m.recipient, m.channel) for m in rows] == [("13800138000", "sms")]


def test_a_recipient_without_an_address_is_recorded_as_skipped_with_the_reason():
    no_contact = factories.UserFactory(email="")
    retired = factories.UserFactory(is_active=False)
    rows = services.send("k:skip", [no_contact, retired, "12345", "not-an-email@"], "generic", CONTEXT,
                         channels=["admin", "email", "sms"])
    reasons = {(m.recipient, m.channel): (m.status, m.last_error) for m in rows}
    assert reasons[(f"user:{no_contact.pk}", "admin")] == (Status.SENT, "")
    assert reasons[(f"user:{no_contact.pk}", "email")] == (Status.SKIPPED, "该员工没有电子邮箱。")
    assert reasons[(f"user:{no_contact.pk}", "sms")] == (Status.SKIPPED, "该员工没有登记手机号。")
    assert reasons[(f"user:{retired.pk}", "admin")] == (Status.SKIPPED, "该员工账号已停用。")
    assert reasons[("12345", "sms")] == (Status.SKIPPED, "手机号无效。")
    assert reasons[("not-an-email@", "email")] == (Status.SKIPPED, "电子邮箱地址无效。")


def test_the_admin_message_is_delivered_when_written(staff):
    (message,) = services.send("k:admin", staff, "generic", CONTEXT, channels=["admin"])
    assert message.status == Status.SENT and message.sent_at is not None and message.read_at is None
    assert message.subject == CONTEXT["subject"] and message.body == CONTEXT["body"]


def test_nothing_is_delivered_when_the_callers_transaction_rolls_back(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.send("k:rollback", staff, "generic", CONTEXT, channels=["admin", "email"])
                raise RuntimeError("the case change failed")
        except RuntimeError:
            pass
    assert Message.objects.count() == 0 and mail.outbox == []


def test_email_waits_for_the_commit_then_goes_at_once(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (message,) = services.send("k:commit", staff, "generic", CONTEXT, channels=["email"])
        assert mail.outbox == [] and message.status == Status.PENDING
    assert len(callbacks) == 1
    callbacks[0]()
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 1 and len(mail.outbox) == 1


def test_email_content_is_the_rendered_chinese_template(staff, django_capture_on_commit_callbacks, settings):
    context = {"subject": "投诉 TS20261123-0002 已升级", "body": "业主张女士 & 家人：卫生间漏水 <急>。"}
    with django_capture_on_commit_callbacks(execute=True):
        services.send("k:email", [staff, "owner@example.com"], "generic", context, channels=["email"],
                      url="/admin/cases/812/")
    assert [email.to for email in mail.outbox] == [["zhangwei@example.com"], ["owner@example.com"]]
    email = mail.outbox[0]
    assert email.subject == "投诉 TS20261123-0002 已升级"
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    # Plain text: nothing HTML-escaped; the link is absolute.
    assert email.body == "业主张女士 & 家人：卫生间漏水 <急>。\n\n查看详情：http://testserver/admin/cases/812/"


def test_sms_goes_as_the_providers_template_code_with_string_params(
    staff, at_noon, configure, django_capture_on_commit_callbacks
):
    configure(SMS_TEMPLATES={"generic": "SMS_486000001"})
    with django_capture_on_commit_callbacks(execute=True):
        services.send("k:sms", "13800138000", "generic", {"subject": "维修提醒", "body": "明天上门", "count": 3})
    (record,) = SmsRecord.objects.all()
    assert (record.mobile, record.template_code) == ("13800138000", "SMS_486000001")
    assert record.params == {"subject": "维修提醒", "body": "明天上门", "count": "3"}


def test_console_sms_backend_prints_what_it_sends(capsys):
    from notifications.sms import ConsoleBackend

    ConsoleBackend().send("13800138000", "SMS_1", {"name": "张三"})
    assert capsys.readouterr().out == '[SMS] 13800138000 SMS_1 {"name": "张三"}\n'


def test_bad_keys_and_unknown_channels_are_refused(staff):
    with pytest.raises(ValueError):
        services.send("", staff, "generic", CONTEXT)
    with pytest.raises(ValueError):
        services.send("k" * 201, staff, "generic", CONTEXT)
    with pytest.raises(ImproperlyConfigured):
        services.send("k:unknown", staff, "generic", CONTEXT, channels=["wechat"])
    assert Message.objects.count() == 0


def test_a_repeated_send_reads_the_key_once_and_writes_nothing(staff, django_assert_num_queries):
    services.send("k:cheap", [staff, "13800138000"], "generic", CONTEXT, channels=["admin", "email", "sms"])
    with django_assert_num_queries(3):  # savepoint, the key's rows, release
        services.send("k:cheap", [staff, "13800138000"], "generic", CONTEXT, channels=["admin", "email", "sms"])
