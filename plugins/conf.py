"""The one way a plugin reads its settings: its defaults overlaid with PLUGIN_SETTINGS[label]."""

from collections.abc import Mapping, Set
from types import MappingProxyType

from django.apps import apps
from django.conf import settings

from .base import PortalPlugin


def _freeze(value):
    """A read-only copy: mappings become MappingProxyType, lists and tuples tuples, sets frozensets,
    all the way down, so no caller can change a plugin's defaults (class attributes shared by
    every reader) by mutating what it was given."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, Set):
        return frozenset(value)
    return value


def merged_settings(config):
    """The read-only settings of plugin ``config``: ``default_settings`` with the top-level keys of
    ``PLUGIN_SETTINGS[config.label]`` replacing theirs. Read on every call, never cached."""
    overrides = getattr(settings, "PLUGIN_SETTINGS", {}).get(config.label) or {}
    return _freeze({**config.default_settings, **overrides})


def plugin_settings(label):
    """Return the merged, read-only settings of the enabled plugin ``label``.

    Raises LookupError when no enabled plugin has that label.
    """
    try:
        config = apps.get_app_config(label)
    except LookupError:
        raise LookupError(f"{label!r} is not an enabled portal plugin") from None
    if not isinstance(config, PortalPlugin):
        raise LookupError(f"{label!r} is an app but not a portal plugin")
    return merged_settings(config)
