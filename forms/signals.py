"""Receivers of the forms app, connected in FormsConfig.ready()."""

from django.db import transaction

from .uploads import delete_stored


def delete_photo_file(sender, instance, **kwargs):
    """A deleted SubmissionPhoto row takes its private file with it, once the deletion has
    committed (a rolled-back delete keeps the file). Receivers of form_submitted that keep a
    photo beyond its submission copy the file."""
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: delete_stored([name]), robust=True)
