from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FormsConfig(AppConfig):
    """Editor-built repair, complaint and enquiry forms (owner-portal issue). Sends
    ``plugins.signals.form_submitted``; never imports a plugin."""

    name = "forms"
    label = "portal_forms"  # "forms" would read as Django's form library in migrations and logs
    verbose_name = _("表单")

    def ready(self):
        from django.db.models.signals import post_delete

        from estates import scope

        from .models import ServiceSubmission, SubmissionPhoto
        from .signals import delete_photo_file

        scope.register(ServiceSubmission, "project")
        scope.register(SubmissionPhoto, "submission__project")
        post_delete.connect(delete_photo_file, sender=SubmissionPhoto, dispatch_uid="portal_forms_photo_file")
