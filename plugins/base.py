from django.apps import AppConfig


class PortalPlugin(AppConfig):
    """Base for every plugin's AppConfig.

    Enable a plugin by its config's dotted path (``plugins.cases.apps.CasesPlugin``), never by the
    bare module: given a module, Django looks in its ``apps.py`` for one config that is not marked
    ``default = False``; this base class is marked so (Django must never pick it), every plugin
    inherits the mark, so Django finds none and silently falls back to a plain ``AppConfig``,
    losing everything declared here. The check ``plugins.E003`` reports such an entry.
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

    def seed_demo(self, size="small", stdout=None):
        """Add this plugin's demo content. ``manage.py seed_demo`` calls it for every enabled
        plugin, after the registry and the portal exist; it must be idempotent (a second run
        adds nothing). ``size`` is "small" or "large". The base adds nothing: a plugin without
        demo content need not override it."""
        return None

    @property
    def settings(self):
        """``default_settings`` merged with ``PLUGIN_SETTINGS[label]``, read-only
        (see :func:`plugins.conf.plugin_settings`)."""
        from .conf import merged_settings

        return merged_settings(self)
