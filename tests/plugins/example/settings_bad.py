"""Test settings with a misspelt key for the example plugin: ``manage.py check`` must refuse
them (tests/plugins/test_enabled.py)."""

from config.settings.test import *  # noqa: F401,F403

PLUGIN_SETTINGS = {"example": {"GREETING": "您好", "GRETING": "typo"}}
