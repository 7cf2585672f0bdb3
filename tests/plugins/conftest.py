"""Fake plugin configs for in-process tests: instances of PortalPlugin subclasses that the
framework's registry reports as enabled, without installing them (no ready(), no models)."""

import pytest

import plugins.checks
import plugins.registry
import tests.plugins.example


def make_config(config_class):
    """An instance of ``config_class`` as Django would create it; nothing is imported or run."""
    return config_class(config_class.name, tests.plugins.example)


@pytest.fixture
def enable_fakes(monkeypatch):
    """``enable_fakes(ConfigClass, …)``: the registry (and so the checks, the URL mounting and
    ``manage.py plugins``) reports these as the enabled plugins."""

    def enable(*config_classes):
        configs = [make_config(cls) for cls in config_classes]
        monkeypatch.setattr(plugins.registry, "enabled_plugins", lambda: list(configs))
        monkeypatch.setattr(plugins.checks, "enabled_plugins", lambda: list(configs))
        return configs

    return enable
