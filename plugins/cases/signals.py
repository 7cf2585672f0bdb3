"""Receivers: what the case desk does when the rest of the portal speaks (plugins/signals.py)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from . import owner_access, services
from .models import Case
from .queues import cases_changed


def case_saved(sender, **kwargs):
    """Any saved case may move between queues: the menu's cached counts are stale."""
    cases_changed()


def open_case_from_submission(sender, submission, kind, unit, **kwargs):
    """A repair, complaint or enquiry sent from the portal becomes a case at once (the seeds'
    single intake), numbered for the owner's thank-you page, with copies of its photos (the
    submission's own files go when it is deleted). A re-delivered signal finds the case it
    opened before instead of opening a second one, and copies no photo twice."""
    source = f"portal_forms.submission:{submission.pk}"
    case = Case.objects.filter(source=source).first()
    if case is None:
        case = services.register(
            services.Actor.system(_("网上报事")),
            kind=kind,
            channel="qr" if submission.channel == "qr" else "web",
            project=submission.project,
            unit=unit,
            reporter_name=submission.name,
            reporter_mobile=submission.mobile,
            description=submission.description,
            source=source,
            when=submission.submit_time,
        )
    photos = [(f"forms.photo:{photo.pk}", photo.file.name, photo.original_name, photo.content_type)
              for photo in submission.photos.all()]
    if photos:
        services.copy_files(case, services.Actor.system(_("网上报事")), photos)
    return {"reference": case.number, "label": _("工单号"),
            "url": reverse("cases:follow_link", args=[owner_access.follow_token(case)])}
