"""The settings accessor: a plugin's default_settings merged with PLUGIN_SETTINGS[label], read
on every call and read-only all the way down."""

import pytest
from django.test import override_settings

from plugins.base import PortalPlugin
from plugins.conf import plugin_settings
from tests.plugins.conftest import make_config
from tests.plugins.example.apps import ExamplePlugin


class TunedPlugin(PortalPlugin):
    name = "tests.plugins.tuned"
    label = "tuned"
    default_settings = {
        "BATCH_SIZE": 100,
        "PROVIDER": "console",
        "CHANNELS": ["inbox", "sms"],
        "LIMITS": {"daily": 5},
    }


def test_defaults_without_plugin_settings():
    with override_settings(PLUGIN_SETTINGS={}):
        assert make_config(ExamplePlugin).settings == {"GREETING": "你好"}
        assert make_config(TunedPlugin).settings == {
            "BATCH_SIZE": 100,
            "PROVIDER": "console",
            "CHANNELS": ("inbox", "sms"),
            "LIMITS": {"daily": 5},
        }


def test_plugin_settings_override_their_keys_and_keep_the_other_defaults():
    config = make_config(TunedPlugin)
    overrides = {"tuned": {"BATCH_SIZE": 500, "LIMITS": {"daily": 1}}, "example": {"GREETING": "嗨"}}
    with override_settings(PLUGIN_SETTINGS=overrides):
        assert config.settings == {
            "BATCH_SIZE": 500,
            "PROVIDER": "console",
            "CHANNELS": ("inbox", "sms"),
            "LIMITS": {"daily": 1},
        }
        assert make_config(ExamplePlugin).settings == {"GREETING": "嗨"}


def test_settings_are_read_on_every_call():
    config = make_config(ExamplePlugin)
    with override_settings(PLUGIN_SETTINGS={"example": {"GREETING": "早上好"}}):
        assert config.settings["GREETING"] == "早上好"
    with override_settings(PLUGIN_SETTINGS={"example": {"GREETING": "晚上好"}}):
        assert config.settings["GREETING"] == "晚上好"


def test_settings_are_read_only_all_the_way_down():
    overrides = {"tuned": {"PROVIDER": "aliyun"}}
    with override_settings(PLUGIN_SETTINGS=overrides):
        merged = make_config(TunedPlugin).settings
        with pytest.raises(TypeError):
            merged["BATCH_SIZE"] = 1
        with pytest.raises(TypeError):
            del merged["PROVIDER"]
        with pytest.raises(AttributeError):
            merged["CHANNELS"].append("email")
        with pytest.raises(TypeError):
            merged["LIMITS"]["daily"] = 99
        assert make_config(TunedPlugin).settings["PROVIDER"] == "aliyun"
    # Nothing reached the class's defaults (shared by every reader) or the settings.
    assert TunedPlugin.default_settings == {
        "BATCH_SIZE": 100,
        "PROVIDER": "console",
        "CHANNELS": ["inbox", "sms"],
        "LIMITS": {"daily": 5},
    }
    assert overrides == {"tuned": {"PROVIDER": "aliyun"}}


@pytest.mark.parametrize("label", ["example", "estates", "nosuch"])
def test_accessor_by_label_refuses_what_is_not_an_enabled_plugin(label):
    # example: a plugin, not enabled here; estates: an app, not a plugin; nosuch: nothing.
    with pytest.raises(LookupError, match=repr(label)):
        plugin_settings(label)
