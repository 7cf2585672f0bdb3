"""Facts about the example plugin, gathered in a process where it is enabled.

Run by tests/plugins/test_enabled.py as ``python -m tests.plugins.example.probe`` with
``PORTAL_PLUGINS=tests.plugins.example.apps.ExamplePlugin`` and a throwaway SQLite database. It
migrates that database, exercises the plugin through the framework and prints one line,
``PROBE <json>``. The helpers at the top import nothing of the plugin, so the in-process tests
(where it is disabled) use them too.
"""

import json
import sys
import weakref

PREFIX = "PROBE "
PLUGIN_PATH = "tests.plugins.example.apps.ExamplePlugin"
PLUGIN_MODULE = "tests.plugins.example"
#: The example model's table: present only where the plugin is enabled and migrated.
EXAMPLE_TABLE = "example_handovernote"


def receiver_names(signal):
    """Dotted names of the live receivers connected to ``signal``."""
    names = []
    for _key, ref, *_rest in signal.receivers:
        func = ref() if isinstance(ref, weakref.ReferenceType) else ref
        if func is not None:
            names.append(f"{func.__module__}.{func.__qualname__}")
    return names


def menu_items(request):
    """(name, url) of every admin main-menu item ``request.user`` is shown."""
    from wagtail.admin.menu import admin_menu

    return [(item.name, str(item.url)) for item in admin_menu.menu_items_for_request(request)]


def menu_hook_modules():
    from wagtail import hooks

    return sorted({fn.__module__ for fn in hooks.get_hooks("register_admin_menu_item")})


def parse_plugins_table(output):
    """``manage.py plugins`` output as {label: {"version", "enabled", "requires", "description"}},
    cutting each row at the columns of the header line."""
    lines = [line for line in output.splitlines() if line.strip()]
    columns = ["label", "version", "enabled", "requires", "description"]
    header = lines[0]
    starts = [header.index(column) for column in columns]
    assert header.split() == columns and starts == sorted(starts), header
    rows = {}
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows[cells[0]] = dict(zip(columns[1:], cells[1:]))
    return rows


def config_for_entry(entry):
    """The installed AppConfig that the INSTALLED_APPS entry ``entry`` produced."""
    from django.apps import apps

    for config in apps.get_app_configs():
        cls = type(config)
        if entry in (f"{cls.__module__}.{cls.__qualname__}", config.name):
            return config
    raise LookupError(entry)


def main():
    import datetime
    from io import StringIO

    import django

    django.setup()

    from django.apps import apps
    from django.conf import settings
    from django.core.checks import run_checks
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder
    from django.test import Client, RequestFactory, override_settings
    from django.urls import resolve, reverse

    from estates.services import record_handover
    from plugins.base import PortalPlugin
    from plugins.checks import check_plugins
    from plugins.conf import plugin_settings
    from plugins.signals import unit_handed_over
    from tests import factories

    call_command("migrate", interactive=False, verbosity=0)

    facts = {}
    config = apps.get_app_config("example")
    facts["config"] = {
        "class": f"{type(config).__module__}.{type(config).__qualname__}",
        "is_portal_plugin": isinstance(config, PortalPlugin),
        "version": getattr(config, "version", None),
        "label": config.label,
    }
    facts["portal_plugins"] = {
        entry: isinstance(config_for_entry(entry), PortalPlugin)
        for entry in settings.PORTAL_PLUGINS
    }
    facts["plugin_checks"] = [error.id for error in check_plugins()]
    facts["serious_checks"] = [str(error) for error in run_checks() if error.is_serious()]

    model = apps.get_model("example", "HandoverNote")
    facts["db_table"] = model._meta.db_table
    facts["table_exists"] = model._meta.db_table in connection.introspection.table_names()
    facts["migration_applied"] = MigrationRecorder.Migration.objects.filter(
        app="example", name="0001_initial"
    ).exists()

    facts["settings"] = dict(plugin_settings("example"))
    client = Client()
    facts["reverse"] = reverse("example:index")
    match = resolve("/example/")
    facts["resolve"] = {"namespace": match.namespace, "func": match.func.__module__}
    response = client.get("/example/")
    facts["page"] = {"status": response.status_code, "body": response.content.decode()}
    with override_settings(PLUGIN_SETTINGS={"example": {"GREETING": "欢迎回家"}}):
        facts["page_overridden"] = client.get("/example/").content.decode()

    admin = factories.UserFactory(username="probe-admin", is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = admin
    facts["menu_items"] = menu_items(request)
    facts["menu_hook_modules"] = menu_hook_modules()
    client.force_login(admin)
    admin_page = client.get("/admin/")
    facts["admin_page"] = {
        "status": admin_page.status_code,
        "has_item": '"/example/"' in admin_page.content.decode(),
    }

    facts["receivers"] = receiver_names(unit_handed_over)
    unit = factories.UnitFactory()
    before = model.objects.count()
    record_handover(unit, datetime.date(2026, 11, 20), admin, "集中交付")
    notes = list(model.objects.filter(unit=unit).values("handover_date", "greeting"))
    facts["handover"] = {
        "before": before,
        "after": model.objects.count(),
        "notes": [
            {"handover_date": note["handover_date"].isoformat(), "greeting": note["greeting"]}
            for note in notes
        ],
    }
    facts["page_after_handover"] = client.get("/example/").content.decode()

    out = StringIO()
    call_command("plugins", stdout=out)
    facts["plugins_command"] = out.getvalue()

    sys.stdout.write(PREFIX + json.dumps(facts, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
