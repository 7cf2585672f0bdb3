from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self):
        from . import conf, signals, sms_http  # noqa: F401  (sms_http registers its system check)

        conf.connect_signals()
        signals.connect()
