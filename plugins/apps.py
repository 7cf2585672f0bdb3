from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PluginFrameworkConfig(AppConfig):
    """The framework itself (not a plugin): registers the start-up checks."""

    name = "plugins"
    verbose_name = _("插件框架")

    def ready(self):
        from . import checks  # noqa: F401  (registers the checks)
