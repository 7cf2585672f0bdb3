"""A minimal plugin that exercises every part of the plugin contract (tests only, never shipped)."""

from django.utils.translation import gettext_lazy as _

from plugins.base import PortalPlugin


class ExamplePlugin(PortalPlugin):
    name = "tests.plugins.example"
    label = "example"
    verbose_name = _("示例插件")
    version = "1.2.0"
    description = _("插件约定的示例：一张表、一个页面、一个后台菜单项和一个信号接收器。")
    default_settings = {"GREETING": "你好"}

    def ready(self):
        from plugins.signals import unit_handed_over

        from .signals import note_handover

        unit_handed_over.connect(note_handover, dispatch_uid="example.note_handover")
