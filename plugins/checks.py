"""System checks that stop start-up when the plugin configuration cannot work."""

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .base import PortalPlugin
from .registry import enabled_plugins


@checks.register("plugins")
def check_plugins(app_configs=None, **kwargs):
    errors = []
    for entry in getattr(settings, "PORTAL_PLUGINS", []):
        try:
            target = import_string(entry)
        except ImportError:
            target = None
        if not (isinstance(target, type) and issubclass(target, PortalPlugin)):
            errors.append(
                checks.Error(
                    f"PORTAL_PLUGINS entry {entry!r} is not a PortalPlugin class.",
                    hint="Name the plugin's config class, e.g. plugins.cases.apps.CasesPlugin, "
                    "not the module.",
                    id="plugins.E003",
                )
            )

    plugins = enabled_plugins()
    labels = {config.label for config in plugins}
    for config in plugins:
        for needed in config.requires:
            if needed not in labels:
                errors.append(
                    checks.Error(
                        f"Plugin {config.label!r} requires plugin {needed!r}, which is not enabled.",
                        hint=f"Add {needed!r}'s config class to PORTAL_PLUGINS, or disable "
                        f"{config.label!r}.",
                        obj=config.name,
                        id="plugins.E001",
                    )
                )

    plugin_settings = getattr(settings, "PLUGIN_SETTINGS", {})
    for label, values in plugin_settings.items():
        config = next((c for c in plugins if c.label == label), None)
        if config is None:
            if not apps.is_installed(label):
                errors.append(
                    checks.Warning(
                        f"PLUGIN_SETTINGS has settings for {label!r}, which is not an enabled "
                        "plugin; they are ignored.",
                        id="plugins.W001",
                    )
                )
            continue
        unknown = sorted(set(values) - set(config.default_settings))
        if unknown:
            errors.append(
                checks.Error(
                    f"Unknown settings for plugin {label!r}: {', '.join(unknown)}.",
                    hint="Known keys: " + (", ".join(sorted(config.default_settings)) or "none"),
                    obj=config.name,
                    id="plugins.E002",
                )
            )
    return errors
