"""Which plugins exist, which are enabled, and the URL patterns they contribute."""

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass

from django.apps import apps
from django.urls import include, path

from .base import PortalPlugin


def enabled_plugins():
    """The installed AppConfigs that are portal plugins, in INSTALLED_APPS order."""
    return [config for config in apps.get_app_configs() if isinstance(config, PortalPlugin)]


@dataclass(frozen=True)
class PluginInfo:
    label: str
    name: str
    version: str
    description: str
    requires: tuple
    enabled: bool


def _info(config_class, enabled):
    return PluginInfo(
        # AppConfig has no class-level ``label``: Django derives it in __init__ when a config
        # leaves it out, and so must we for a class that was never instantiated.
        label=getattr(config_class, "label", None) or config_class.name.rpartition(".")[2],
        name=config_class.name,
        version=config_class.version,
        description=str(config_class.description),
        requires=tuple(config_class.requires),
        enabled=enabled,
    )


def shipped_plugin_classes():
    """PortalPlugin subclasses found in the sub-packages of ``plugins/`` (enabled or not)."""
    import plugins

    found = []
    for module_info in pkgutil.iter_modules(plugins.__path__):
        if not module_info.ispkg or module_info.name == "management":
            continue
        module_name = f"plugins.{module_info.name}.apps"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, PortalPlugin)
                and value is not PortalPlugin
                and value.__module__ == module_name
            ):
                found.append(value)
    return found


def all_plugins():
    """Every known plugin: the enabled ones, then shipped ones that are not enabled."""
    enabled = enabled_plugins()
    infos = [_info(type(config), True) for config in enabled]
    enabled_names = {config.name for config in enabled}
    for config_class in shipped_plugin_classes():
        if config_class.name not in enabled_names:
            infos.append(_info(config_class, False))
    return infos


def plugin_urlpatterns():
    """Mount every enabled plugin that has a ``urls`` module under ``/<label>/``."""
    patterns = []
    for config in enabled_plugins():
        module_name = f"{config.name}.urls"
        if importlib.util.find_spec(module_name) is None:
            continue
        # The namespace is always the label, even if the module sets another ``app_name``.
        patterns.append(
            path(f"{config.label}/", include((module_name, config.label), namespace=config.label))
        )
    return patterns
