from django.apps import AppConfig


class PortalPlugin(AppConfig):
    """Base for every plugin's AppConfig.

    Enable a plugin by its config's dotted path (``plugins.cases.apps.CasesPlugin``), never by the
    bare module: the module's ``apps.py`` also holds this imported base class, so Django would
    find two configs and fall back to a plain ``AppConfig``, losing everything declared here.
    ``default = False`` keeps Django from ever picking this base class on its own.
    """

    default = False

    #: Semantic version of the plugin, shown by ``manage.py plugins``.
    version = "0.0.0"
    #: One line on what the plugin adds.
    description = ""
    #: Labels of plugins this one cannot work without (checked at start-up).
    requires: tuple[str, ...] = ()
    #: Every settings key the plugin understands, with its default. Keys in
    #: ``PLUGIN_SETTINGS[label]`` that are not here stop start-up (a typo is not silently ignored).
    default_settings: dict = {}

    @property
    def settings(self):
        from .conf import plugin_settings

        return plugin_settings(self.label)
