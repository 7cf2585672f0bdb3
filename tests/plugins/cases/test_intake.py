"""The portal's repair, complaint and enquiry forms open cases (the seeds' single intake).
Transactional: the signal is sent when the submission commits, before the thank-you redirect
is built, as in production."""

import pytest

from forms.models import ServiceSubmission
from plugins.cases.models import Case
from plugins.signals import form_submitted
from tests.forms.conftest import add_form_page, form_data, make_estate
from tests.portal import build_portal


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def estate(transactional_db):
    from django.apps import apps

    from plugins.cases.defaults import create_all

    create_all(apps)  # a transactional test's flush removed the shipped defaults
    return make_estate("HZ01", "钱塘雅苑")


@pytest.fixture
def portal(transactional_db):
    return build_portal()


def submit(client, page, estate, **overrides):
    response = client.post(page.url, form_data(estate, **overrides))
    assert response.status_code == 302, response.content.decode()[:500]
    return response


@pytest.mark.parametrize("kind, prefix", [("repair", "BX"), ("complaint", "TS"), ("enquiry", "ZX")])
def test_a_submission_opens_a_case_and_the_owner_sees_its_number(
    client, portal, estate, kind, prefix
):
    page = add_form_page(portal.home, kind=kind)
    response = submit(client, page, estate)
    submission = ServiceSubmission.objects.get()
    case = Case.objects.get()
    assert case.number.startswith(prefix)
    assert (case.kind, case.channel, case.unit, case.project) == (kind, "web", estate.unit, estate.project)
    assert case.reporter_mobile == submission.mobile and case.description == submission.description
    assert case.source == f"portal_forms.submission:{submission.pk}"
    event = case.events.get()
    assert (event.actor_type, event.actor_user, event.visible_to_owner) == ("system", None, True)
    thanks = client.get(response["Location"]).content.decode()
    assert f"工单号：<strong>{case.number}</strong>" in thanks


def test_a_redelivered_signal_opens_no_second_case(client, portal, estate):
    page = add_form_page(portal.home)
    submit(client, page, estate)
    submission = ServiceSubmission.objects.get()
    answers = form_submitted.send(
        sender=type(page), page=page, submission=submission, request=None, kind="repair", unit=submission.unit
    )
    numbers = {answer["reference"] for receiver, answer in answers if isinstance(answer, dict)}
    assert numbers == {Case.objects.get().number}
    assert Case.objects.count() == 1


def test_the_submissions_photos_are_copied_onto_the_case(client, portal, estate):
    from django.core.files.storage import storages

    from tests.forms.conftest import jpeg_bytes, upload

    page = add_form_page(portal.home)
    response = client.post(page.url, {**form_data(estate), "photos": [upload("a.jpg", jpeg_bytes())]})
    assert response.status_code == 302
    case = Case.objects.get()
    attachment = case.attachments.get()
    photo = ServiceSubmission.objects.get().photos.get()
    assert attachment.source == f"forms.photo:{photo.pk}" and attachment.visible_to_owner
    assert attachment.file.name != photo.file.name and storages["private"].exists(attachment.file.name)
    assert case.events.filter(verb="attach", actor_type="system").count() == 1
