from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FormsConfig(AppConfig):
    """Editor-built repair, complaint and enquiry forms (owner-portal issue). Sends
    ``plugins.signals.form_submitted``; never imports a plugin."""

    name = "forms"
    label = "portal_forms"  # "forms" would read as Django's form library in migrations and logs
    verbose_name = _("表单")
