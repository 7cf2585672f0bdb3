"""A plugin that is not enabled leaves nothing behind: no table, URL, admin menu item, signal
receiver, nor an "enabled" line in ``manage.py plugins``. The normal test settings do not enable
the example plugin; test_enabled.py shows each of these present when it is enabled."""

import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import NoReverseMatch, reverse

from estates.services import record_handover
from plugins.registry import all_plugins
from plugins.signals import unit_handed_over
from tests import factories
from tests.plugins.example.probe import (
    EXAMPLE_TABLE,
    PLUGIN_MODULE,
    PLUGIN_PATH,
    menu_hook_modules,
    menu_items,
    parse_plugins_table,
    receiver_names,
)


def test_example_plugin_is_not_enabled_here():
    assert PLUGIN_PATH not in settings.PORTAL_PLUGINS
    assert not apps.is_installed(PLUGIN_MODULE)
    with pytest.raises(LookupError):
        apps.get_app_config("example")


@pytest.mark.django_db
def test_no_table():
    tables = connection.introspection.table_names()
    assert "estates_unit" in tables  # the introspection does see the migrated tables
    assert EXAMPLE_TABLE not in tables


@pytest.mark.django_db
def test_no_url(client):
    with pytest.raises(NoReverseMatch):
        reverse("example:index")
    assert client.get("/example/").status_code == 404


@pytest.mark.django_db
def test_no_admin_menu_item(admin_client, admin_user, rf):
    request = rf.get("/admin/")
    request.user = admin_user
    items = menu_items(request)
    assert ("explorer", "/admin/pages/") in items  # the menu is there, with core items
    assert not [item for item in items if item[0] == "example" or item[1].startswith("/example/")]
    assert f"{PLUGIN_MODULE}.wagtail_hooks" not in menu_hook_modules()

    page = admin_client.get("/admin/")
    assert page.status_code == 200
    assert '"/admin/pages/"' in page.content.decode()  # the sidebar's items are in the page
    assert '"/example/"' not in page.content.decode()


@pytest.mark.django_db
def test_no_signal_receiver(django_capture_on_commit_callbacks):
    assert not [name for name in receiver_names(unit_handed_over) if name.startswith(PLUGIN_MODULE)]
    # A handover still works; a connected example receiver would fail here on its missing table.
    unit = factories.UnitFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record_handover(unit, datetime.date(2026, 11, 20), None, "集中交付")
    assert len(callbacks) == 1


def test_plugins_command_does_not_list_it_enabled():
    assert not [info for info in all_plugins() if info.label == "example" and info.enabled]
    out = StringIO()
    call_command("plugins", stdout=out)
    output = out.getvalue()
    if output.strip() != "No plugins found.":
        rows = parse_plugins_table(output)
        assert rows.get("example", {}).get("enabled") != "yes"
