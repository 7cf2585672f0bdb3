"""The example plugin enabled (PORTAL_PLUGINS from the environment, as in a deployment): its
table, URL, admin menu item, signal receiver and settings all work, and ``manage.py check``
refuses a misspelt settings key.

pytest-django plays no part here: each test reads facts that one subprocess (the probe, on a
throwaway SQLite database it migrates itself) gathered."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins.example.probe import EXAMPLE_TABLE, PLUGIN_PATH, PREFIX, parse_plugins_table

ROOT = Path(__file__).resolve().parents[2]


def run(args, tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PORTAL_PLUGINS"}}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PORTAL_PLUGINS": PLUGIN_PATH,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'plugins.sqlite3'}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    result = run(["-m", "tests.plugins.example.probe"], tmp_path_factory.mktemp("probe"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(PREFIX)]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0][len(PREFIX) :])


def test_config_is_the_plugin_class_with_its_version(facts):
    assert facts["config"] == {
        "class": PLUGIN_PATH,
        "is_portal_plugin": True,
        "version": "1.2.0",
        "label": "example",
    }


def test_every_enabled_plugin_config_is_a_portal_plugin(facts):
    assert facts["portal_plugins"] == {PLUGIN_PATH: True}


def test_configuration_passes_every_check(facts):
    assert facts["plugin_checks"] == []
    assert facts["serious_checks"] == []


def test_migration_creates_the_table(facts):
    # The same name the disabled tests look for (and must not find).
    assert facts["db_table"] == EXAMPLE_TABLE
    assert facts["migration_applied"] is True
    assert facts["table_exists"] is True


def test_urls_are_mounted_under_the_label(facts):
    assert facts["reverse"] == "/example/"
    assert facts["resolve"] == {"namespace": "example", "func": "tests.plugins.example.views"}
    assert facts["page"]["status"] == 200


def test_page_greets_through_the_settings_accessor(facts):
    assert facts["settings"] == {"GREETING": "你好"}
    assert "<p>你好</p>" in facts["page"]["body"]
    # PLUGIN_SETTINGS is read on each request, through the accessor.
    assert "<p>欢迎回家</p>" in facts["page_overridden"]
    assert "你好" not in facts["page_overridden"]


def test_admin_menu_has_the_item(facts):
    assert ["example", "/example/"] in facts["menu_items"]
    assert "tests.plugins.example.wagtail_hooks" in facts["menu_hook_modules"]
    assert facts["admin_page"] == {"status": 200, "has_item": True}


def test_handover_fires_the_receiver(facts):
    assert facts["receivers"] == ["tests.plugins.example.signals.note_handover"]
    handover = facts["handover"]
    assert (handover["before"], handover["after"]) == (0, 1)
    assert handover["notes"] == [{"handover_date": "2026-11-20", "greeting": "你好"}]
    assert "已记录交付 1 次" in facts["page_after_handover"]


def test_plugins_command_lists_it_enabled(facts):
    rows = parse_plugins_table(facts["plugins_command"])
    assert rows["example"] == {
        "version": "1.2.0",
        "enabled": "yes",
        "requires": "-",
        "description": "插件约定的示例：一张表、一个页面、一个后台菜单项和一个信号接收器。",
    }


def test_check_refuses_an_unknown_settings_key(tmp_path):
    result = run(
        ["manage.py", "check"],
        tmp_path,
        DJANGO_SETTINGS_MODULE="tests.plugins.example.settings_bad",
    )
    assert result.returncode != 0
    assert "(plugins.E002) Unknown settings for plugin 'example': GRETING." in result.stderr
    assert "Known keys: GREETING" in result.stderr
