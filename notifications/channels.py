"""Channels deliver outbox messages. NOTIFICATIONS["CHANNELS"] maps each channel name to its
class; a deployment may add one (e.g. WeCom) by subclassing ``Channel``.

A channel answers two questions when a message is written — where a staff user receives it
(``address_for_user``) and which raw addresses it takes (``address_kind``) — and delivers a
message from the outbox (``deliver``), raising on failure so the outbox records and retries.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from . import conf


class Unreachable(Exception):
    """This recipient cannot be reached on this channel (no address); the message is skipped."""


class Channel:
    #: The message counts as delivered once written (the admin inbox reads the table).
    delivered_on_write = False
    #: A non-urgent message waits for the end of quiet hours.
    respects_quiet_hours = False
    #: The kind of raw recipient this channel takes: "email", "mobile" or None.
    address_kind = None

    def __init__(self, name):
        self.name = name

    def address_for_user(self, user):
        """Where ``user`` receives this channel's messages; raise Unreachable if nowhere."""
        raise Unreachable(_("该渠道不能发给员工账号。"))

    def deliver(self, message):
        """Send ``message`` (a notifications.models.Message); raise on failure."""
        raise NotImplementedError


class AdminChannel(Channel):
    """The in-admin inbox (我的通知): written is delivered."""

    delivered_on_write = True

    def address_for_user(self, user):
        return ""

    def deliver(self, message):
        return None


class EmailChannel(Channel):
    """Django's configured email backend; subject and body come from the message template."""

    address_kind = "email"

    def address_for_user(self, user):
        if not user.email:
            raise Unreachable(_("该员工没有电子邮箱。"))
        return user.email

    def deliver(self, message):
        EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
        ).send(fail_silently=False)


class SmsChannel(Channel):
    """An approved SMS template (code plus parameters) through NOTIFICATIONS["SMS_BACKEND"]."""

    address_kind = "mobile"
    respects_quiet_hours = True

    def address_for_user(self, user):
        from estates.models import StaffProfile

        mobile = StaffProfile.objects.filter(user=user).values_list("mobile", flat=True).first()
        if not mobile:
            raise Unreachable(_("该员工没有登记手机号。"))
        return mobile

    @staticmethod
    def template_code(template):
        return conf.get("SMS_TEMPLATES").get(template, template)

    def deliver(self, message):
        conf.sms_backend().send(message.address, self.template_code(message.template), message.params)
