"""The one way a plugin reads its settings: its defaults overlaid with PLUGIN_SETTINGS[label]."""

from types import MappingProxyType

from django.apps import apps
from django.conf import settings


def plugin_settings(label):
    """Return the merged, read-only settings of the enabled plugin ``label``."""
    config = apps.get_app_config(label)
    defaults = getattr(config, "default_settings", None)
    if defaults is None:
        raise LookupError(f"{label!r} is not a portal plugin")
    overrides = getattr(settings, "PLUGIN_SETTINGS", {}).get(label, {})
    return MappingProxyType({**defaults, **overrides})
