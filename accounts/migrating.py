"""Helpers for data migrations that create groups with permissions (ARCHITECTURE.md
decision 2): permissions are normally made after all migrations (post_migrate), so a migration
that grants them makes them first."""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes


def ensure_permissions(apps, labels):
    for label in labels:
        config = apps.get_app_config(label)
        # create_* skip an app without a models module; restore it after, in case ``apps`` is
        # the real registry (a test calling the migration's function).
        previous, config.models_module = getattr(config, "models_module", None), True
        try:
            create_contenttypes(config, verbosity=0, apps=apps)
            create_permissions(config, verbosity=0, apps=apps)
        finally:
            config.models_module = previous


def perm(apps, app_label, codename):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)
