"""Storing a service-form submission and announcing it.

``submit`` writes the submission and its photos in one transaction and, once it has committed,
sends ``plugins.signals.form_submitted``. Receivers may answer with what the owner should be
shown instead of the bare submission id (the case desk answers with the case number); see the
signal's documentation in ``plugins/signals.py``.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction

from plugins.signals import form_submitted

from . import uploads
from .models import ServiceSubmission, SubmissionPhoto

logger = logging.getLogger(__name__)
PHOTO_PREFIX = "forms"


class StorageUnavailable(Exception):
    """The private storage refused a photo; nothing was stored."""


@dataclass
class Outcome:
    submission: ServiceSubmission
    #: Filled after commit from the receivers' answers: [{"label", "reference", "url"}].
    references: list = field(default_factory=list)


def submit(page, form, request):
    """Store a valid ServiceForm for ``page``; return an Outcome. Atomic: either the submission
    and all its photos are stored, or nothing is (files written before a failure are removed)."""
    data = form.cleaned_data
    stored = []
    outcome = None
    try:
        with transaction.atomic():
            submission = ServiceSubmission.objects.create(
                page=page,
                form_data=form.extra_data(),
                kind=page.kind,
                channel=data["channel"],
                project=data["project"],
                unit=data["unit"],
                name=data["name"],
                mobile=data["mobile"],
                description=data["description"],
            )
            photos = []
            for position, checked in enumerate(data["photos"]):
                name = uploads.store_image(checked, prefix=PHOTO_PREFIX)
                stored.append(name)
                photos.append(
                    SubmissionPhoto(
                        submission=submission,
                        file=name,
                        content_type=checked.content_type,
                        width=checked.width,
                        height=checked.height,
                        size=checked.size,
                        original_name=checked.original_name,
                        position=position,
                    )
                )
            SubmissionPhoto.objects.bulk_create(photos)
            outcome = Outcome(submission)
            transaction.on_commit(lambda: announce(page, submission, request, outcome), robust=True)
    except OSError as error:
        uploads.delete_stored(stored)
        logger.exception("Could not store the photos of a %s form submission", page.kind)
        raise StorageUnavailable from error
    except BaseException:
        uploads.delete_stored(stored)
        raise
    return outcome


def announce(page, submission, request, outcome=None):
    """Send form_submitted; a failing receiver is logged and never fails the owner's request
    (the submission is stored whatever a plugin does with it)."""
    responses = form_submitted.send_robust(
        sender=type(page),
        page=page,
        submission=submission,
        request=request,
        kind=submission.kind,
        unit=submission.unit,
    )
    references = []
    for receiver, response in responses:
        if isinstance(response, Exception):
            logger.error(
                "form_submitted receiver %r failed for submission %s",
                receiver,
                submission.pk,
                exc_info=(type(response), response, response.__traceback__),
            )
            continue
        reference = _reference(response)
        if reference:
            references.append(reference)
    if outcome is not None:
        outcome.references = references
    return references


def _reference(response):
    """A receiver's answer, if it is one: {"reference": str, "label": str?, "url": "/…"?}."""
    if not isinstance(response, dict) or not response.get("reference"):
        return None
    url = str(response.get("url") or "")
    if not url.startswith("/") or url.startswith("//"):
        url = ""  # only local links on the thank-you page
    return {
        "reference": str(response["reference"])[:64],
        "label": str(response.get("label") or "")[:32],
        "url": url[:300],
    }
