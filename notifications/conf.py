"""The app's settings: defaults overlaid with settings.NOTIFICATIONS (top-level keys), read on
every call so override_settings works; the channel and SMS backend instances are cached until
the setting changes."""

import datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULTS = {
    "CHANNELS": {
        "admin": "notifications.channels.AdminChannel",
        "email": "notifications.channels.EmailChannel",
        "sms": "notifications.channels.SmsChannel",
    },
    "DEFAULT_CHANNELS": ["admin", "email"],
    "SMS_BACKEND": "notifications.sms.DatabaseBackend",
    "SMS_TEMPLATES": {},
    "QUIET_HOURS": ("21:00", "08:00"),
    "MAX_ATTEMPTS": 5,
    "RETRY_DELAY": 60,
    "DELIVERY_TASK_BACKEND": "default",
}


def get(name):
    return {**DEFAULTS, **getattr(settings, "NOTIFICATIONS", {})}[name]


@cache
def channel(name):
    """The channel instance called ``name``; ImproperlyConfigured for an unknown name."""
    paths = get("CHANNELS")
    if name not in paths:
        raise ImproperlyConfigured(f"Unknown notification channel {name!r}; known: {sorted(paths)}")
    return import_string(paths[name])(name)


@cache
def sms_backend():
    return import_string(get("SMS_BACKEND"))()


def quiet_hours():
    """(start, end) as datetime.time in local time, or None when quiet hours are off."""
    window = get("QUIET_HOURS")
    if not window:
        return None
    start, end = (datetime.time.fromisoformat(value) for value in window)
    return (start, end) if start != end else None


def _reset(setting, **kwargs):
    if setting == "NOTIFICATIONS":
        channel.cache_clear()
        sms_backend.cache_clear()


def connect_signals():
    setting_changed.connect(_reset, dispatch_uid="notifications-conf-reset")
