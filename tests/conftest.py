"""Top-level fixtures. Tests marked ``postgres`` are deselected (not skipped) unless the test
database is PostgreSQL (ARCHITECTURE.md decision 13)."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.utils import translation

from tests import factories


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def chinese_first():
    """Each test starts in the site's language. A request activates the visitor's language for
    the thread and nothing resets it, so one English test would otherwise leak into the next."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty (per-process) cache: the database is rolled back between
    tests but the cache is not, and ids are reused, so a count cached for user 3 in one test
    would otherwise show in the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def staff_with_perms(*codenames, projects=(), all_projects=False, username=None):
    """A non-superuser staff member with Wagtail admin access, the given model permissions
    (``app_label.codename``) and a StaffProfile limited to ``projects``."""
    user = factories.UserFactory(is_staff=True, **({"username": username} if username else {}))
    group = Group.objects.create(name=f"perms-{user.username}")
    perms = [Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")]
    for dotted in codenames:
        app_label, codename = dotted.split(".")
        perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    group.permissions.set(perms)
    user.groups.add(group)
    factories.StaffProfileFactory(user=user, all_projects=all_projects, projects=list(projects))
    return user


def sidebar_menu(response):
    """The admin's main menu as {label: {sub-label: url}} (from the sidebar props JSON)."""
    props = re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', response.content.decode(), re.S).group(1)
    found = {}

    def walk(node, into):
        if isinstance(node, dict):
            kind, args = node.get("_type"), node.get("_args")
            if kind == "wagtail.sidebar.SubMenuItem":
                sub = into.setdefault(args[0]["label"], {})
                for item in args[1]:
                    walk(item, sub)
                return
            if kind == "wagtail.sidebar.LinkMenuItem":
                into[args[0]["label"]] = args[0]["url"]
                return
            for value in node.values():
                walk(value, into)
        elif isinstance(node, list):
            for value in node:
                walk(value, into)

    walk(json.loads(props), found)
    return found


@pytest.fixture
def make_staff(db):
    return staff_with_perms


@pytest.fixture
def shipped_defaults(transactional_db):
    """The case desk's shipped categories, calendars, SLA policies and roles. Data migrations
    create them once; a transactional test's flush empties those tables, so a transactional test
    that runs after another and needs them creates them again (each step skips what exists)."""
    import importlib

    from django.apps import apps

    from plugins.cases.defaults import create_all

    create_all(apps)
    importlib.import_module("plugins.cases.migrations.0003_sla").create_policies(apps)
    importlib.import_module("plugins.cases.migrations.0005_roles").create_roles(apps, None)
