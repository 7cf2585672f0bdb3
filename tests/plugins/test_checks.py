"""The start-up checks: a missing requirement (E001), an unknown settings key (E002), a
PORTAL_PLUGINS entry that is not a plugin class (E003), malformed settings (E004), and settings
for a label that is not an enabled plugin (W001)."""

import pytest
from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.test import override_settings

from plugins.base import PortalPlugin
from plugins.checks import check_plugins
from tests.plugins.example.apps import ExamplePlugin
from tests.plugins.example.probe import PLUGIN_MODULE, PLUGIN_PATH, config_for_entry


class NeedsCasesPlugin(PortalPlugin):
    name = "tests.plugins.needy"
    label = "needy"
    requires = ("example", "cases")


class NeedsExamplePlugin(PortalPlugin):
    name = "tests.plugins.friendly"
    label = "friendly"
    requires = ("example",)


def ids(errors):
    return [error.id for error in errors]


def test_every_enabled_plugin_config_is_a_portal_plugin():
    for entry in settings.PORTAL_PLUGINS:
        assert isinstance(config_for_entry(entry), PortalPlugin), entry
    for config in apps.get_app_configs():
        if config.name.startswith("plugins."):
            assert isinstance(config, PortalPlugin), config.name


def test_current_settings_pass_the_plugin_checks():
    assert check_plugins() == []


def test_check_is_registered_for_start_up():
    assert check_plugins in checks.registry.registry.get_checks()
    with override_settings(PORTAL_PLUGINS=[PLUGIN_MODULE]):
        assert "plugins.E003" in ids(checks.run_checks(tags=["plugins"]))


def test_bare_module_is_the_trap_e003_reports():
    # What Django does with the bare module: a plain AppConfig, without version or ready().
    trapped = AppConfig.create(PLUGIN_MODULE)
    assert type(trapped) is AppConfig
    assert not hasattr(trapped, "version")
    assert type(AppConfig.create(PLUGIN_PATH)) is ExamplePlugin

    with override_settings(PORTAL_PLUGINS=[PLUGIN_MODULE]):
        errors = check_plugins()
    assert ids(errors) == ["plugins.E003"]
    assert errors[0].level == checks.ERROR
    assert errors[0].msg == (
        "PORTAL_PLUGINS entry 'tests.plugins.example' is not a PortalPlugin class."
    )
    assert errors[0].hint == f"Name the config class instead: {PLUGIN_PATH}."

    with override_settings(PORTAL_PLUGINS=[PLUGIN_PATH]):
        assert check_plugins() == []


@pytest.mark.parametrize(
    "entry", ["estates.apps.EstatesConfig", "tests.plugins.example.apps", "plugins.nosuch.apps.X"]
)
def test_other_entries_that_are_not_plugin_classes(entry):
    with override_settings(PORTAL_PLUGINS=[entry]):
        errors = check_plugins()
    assert ids(errors) == ["plugins.E003"]
    assert repr(entry) in errors[0].msg


def test_missing_requirement_e001(enable_fakes):
    enable_fakes(ExamplePlugin, NeedsCasesPlugin, NeedsExamplePlugin)
    errors = check_plugins()
    assert ids(errors) == ["plugins.E001"]
    assert errors[0].level == checks.ERROR
    assert errors[0].msg == "Plugin 'needy' requires plugin 'cases', which is not enabled."
    assert errors[0].hint == "Add 'cases''s config class to PORTAL_PLUGINS, or disable 'needy'."
    assert errors[0].obj == "tests.plugins.needy"


def test_met_requirements_pass(enable_fakes):
    enable_fakes(ExamplePlugin, NeedsExamplePlugin)
    assert check_plugins() == []
    enable_fakes(NeedsExamplePlugin)
    assert ids(check_plugins()) == ["plugins.E001"]


def test_unknown_settings_key_e002(enable_fakes):
    enable_fakes(ExamplePlugin)
    typos = {"GREETING": "嗨", "GRETING": "x", "COLOUR": 1}
    with override_settings(PLUGIN_SETTINGS={"example": typos}):
        errors = check_plugins()
    assert ids(errors) == ["plugins.E002"]
    assert errors[0].msg == "Unknown settings for plugin 'example': COLOUR, GRETING."
    assert errors[0].hint == "Known keys: GREETING"
    assert errors[0].obj == PLUGIN_MODULE

    with override_settings(PLUGIN_SETTINGS={"example": {"GREETING": "嗨"}}):
        assert check_plugins() == []


def test_settings_that_are_not_a_dict_e004(enable_fakes):
    enable_fakes(ExamplePlugin)
    with override_settings(PLUGIN_SETTINGS={"example": ["GREETING"]}):
        errors = check_plugins()
    assert ids(errors) == ["plugins.E004"]
    assert errors[0].msg == "PLUGIN_SETTINGS['example'] must be a dict, not list."
    with override_settings(PLUGIN_SETTINGS=[("example", {})]):
        assert ids(check_plugins()) == ["plugins.E004"]


@pytest.mark.parametrize(
    "label",
    [
        "nosuch",  # no app at all
        "estates",  # a core app, not a plugin: nothing reads PLUGIN_SETTINGS["estates"]
        "example",  # a plugin, but not enabled here
    ],
)
def test_settings_for_a_label_that_is_not_an_enabled_plugin_w001(label):
    with override_settings(PLUGIN_SETTINGS={label: {"GREETING": "嗨"}}):
        errors = check_plugins()
    assert ids(errors) == ["plugins.W001"]
    assert errors[0].level == checks.WARNING
    assert errors[0].msg == (
        f"PLUGIN_SETTINGS has settings for {label!r}, which is not an enabled plugin; "
        "they are ignored."
    )


def test_w001_names_the_enabled_plugins(enable_fakes):
    enable_fakes(ExamplePlugin)
    with override_settings(PLUGIN_SETTINGS={"exmaple": {}}):
        errors = check_plugins()
    assert ids(errors) == ["plugins.W001"]
    assert errors[0].hint == "Enabled plugins: example."
