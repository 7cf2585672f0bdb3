"""System checks that stop start-up when the plugin configuration cannot work."""

import importlib
from collections.abc import Mapping

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .base import PortalPlugin
from .registry import enabled_plugins


def _config_classes_in(module_name):
    """Dotted paths of the PortalPlugin classes defined in ``<module_name>.apps``, for a hint."""
    try:
        module = importlib.import_module(f"{module_name}.apps")
    except ImportError:
        return []
    return [
        f"{value.__module__}.{value.__qualname__}"
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, PortalPlugin)
        and value.__module__ == module.__name__
    ]


@checks.register("plugins")
def check_plugins(app_configs=None, **kwargs):
    errors = []
    for entry in getattr(settings, "PORTAL_PLUGINS", []):
        try:
            target = import_string(entry)
        except ImportError:
            target = None
        if not (isinstance(target, type) and issubclass(target, PortalPlugin)):
            suggestions = _config_classes_in(entry)
            errors.append(
                checks.Error(
                    f"PORTAL_PLUGINS entry {entry!r} is not a PortalPlugin class.",
                    hint=(
                        f"Name the config class instead: {', '.join(suggestions)}."
                        if suggestions
                        else "Name the plugin's config class, e.g. plugins.cases.apps.CasesPlugin, "
                        "not the module."
                    ),
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
    if not isinstance(plugin_settings, Mapping):
        return errors + [
            checks.Error(
                "PLUGIN_SETTINGS must be a dict of plugin label to a dict of settings.",
                id="plugins.E004",
            )
        ]
    for label, values in plugin_settings.items():
        config = next((c for c in plugins if c.label == label), None)
        if config is None:
            # Whether or not the label is some other (non-plugin) app's: nothing reads these.
            errors.append(
                checks.Warning(
                    f"PLUGIN_SETTINGS has settings for {label!r}, which is not an enabled "
                    "plugin; they are ignored.",
                    hint="Enabled plugins: " + (", ".join(sorted(labels)) or "none") + ".",
                    id="plugins.W001",
                )
            )
            continue
        if not isinstance(values, Mapping):
            errors.append(
                checks.Error(
                    f"PLUGIN_SETTINGS[{label!r}] must be a dict, not {type(values).__name__}.",
                    obj=config.name,
                    id="plugins.E004",
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


def raise_on_plugin_errors():
    """For servers that run no system checks (gunicorn, uvicorn): stop with the same messages."""
    from django.core.exceptions import ImproperlyConfigured

    problems = [m for m in check_plugins() if m.is_serious()]
    if problems:
        raise ImproperlyConfigured(
            "Plugin configuration errors:\n" + "\n".join(f"{m.id}: {m.msg} {m.hint or ''}" for m in problems)
        )
