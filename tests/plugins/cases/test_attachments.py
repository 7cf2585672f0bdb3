"""Case photos and files: checked by content, private, one timeline event; completion photos;
a portal submission's photos copied onto its case."""

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile

from plugins.cases import services
from plugins.cases.models import CaseAttachment
from tests.forms.conftest import jpeg_bytes

from .conftest import ALL_VERBS


@pytest.fixture
def staff(project):
    from tests.conftest import staff_with_perms

    return staff_with_perms(*ALL_VERBS, "cases.add_caseattachment", projects=[project], username="liaison")


def photo(name="漏水.jpg", **kwargs):
    return SimpleUploadedFile(name, jpeg_bytes(gps=True, **kwargs), "image/jpeg")


def test_photos_are_stored_privately_without_gps(new_case, staff):
    case = new_case()
    [attachment] = services.attach(case, staff, [photo()], purpose="before")
    assert attachment.content_type == "image/jpeg" and attachment.name == "漏水.jpg"
    assert storages["private"].exists(attachment.file.name)
    with storages["private"].open(attachment.file.name) as handle:
        assert b"GPS" not in handle.read()
    event = case.events.get(verb="attach")
    assert event.data["attachments"] == [attachment.pk]


def test_anything_but_photos_and_pdfs_is_refused_and_nothing_is_stored(new_case, staff):
    case = new_case()
    before = set(storages["private"].listdir("")[1]) if storages["private"].exists("") else set()
    bad = SimpleUploadedFile("病毒.exe", b"MZ\x90\x00" * 100, "image/jpeg")
    with pytest.raises(Exception) as refused:
        services.attach(case, staff, [photo(), bad])
    assert "病毒.exe" in str(refused.value)
    assert not CaseAttachment.objects.exists()
    after = set(storages["private"].listdir("")[1]) if storages["private"].exists("") else set()
    assert after == before


def test_a_refused_verb_leaves_no_file(new_case, agent):
    case = new_case()  # registered: cannot be completed yet
    with pytest.raises(services.CaseRefused):
        services.complete(case, agent, "已修好", photos=[photo()])
    assert not CaseAttachment.objects.exists()


def test_completion_photos_are_shown_to_the_owner(new_case, agent):
    case = new_case()
    services.dispatch(case, agent, assignee=agent)
    services.complete(case, agent, "更换角阀，已不漏水", photos=[photo("修好.jpg")])
    attachment = case.attachments.get()
    assert (attachment.purpose, attachment.visible_to_owner) == ("after", True)


def test_attaching_needs_the_permission(new_case, agent):
    with pytest.raises(services.CaseRefused, match="权限"):
        services.attach(new_case(), agent, [photo()])


def test_copies_are_made_once_per_source(new_case, staff):
    case = new_case()
    name = storages["private"].save("forms/2026/03/x.jpg", SimpleUploadedFile("x.jpg", jpeg_bytes()))
    items = [("forms.photo:7", name, "现场.jpg", "image/jpeg")]
    assert len(services.copy_files(case, staff, items)) == 1
    assert services.copy_files(case, staff, items) == []
    copy = case.attachments.get()
    assert copy.file.name != name and copy.source == "forms.photo:7"
