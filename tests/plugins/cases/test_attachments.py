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


FILE_URL = "wagtailsnippets_cases_case:file"


def test_files_are_served_only_to_staff_of_the_project(client, new_case, staff, other_project, project):
    from django.urls import reverse

    from tests.conftest import staff_with_perms

    case = new_case()
    [attachment] = services.attach(case, staff, [photo()], visible_to_owner=True)
    url = reverse(FILE_URL, args=(attachment.pk,))
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(staff_with_perms("cases.view_case", projects=[other_project], username="outsider"))
    assert client.get(url).status_code == 404
    client.force_login(staff_with_perms(projects=[project], username="nocases"))
    refused = client.get(url)  # Wagtail turns PermissionDenied into a redirect to the dashboard
    assert refused.status_code in (302, 403) and refused.get("Content-Type", "").startswith("text/html")
    client.logout()
    assert client.get(url).status_code in (302, 403)
    assert client.get(reverse(FILE_URL, args=(attachment.pk + 100,))).status_code in (302, 404)


def test_the_case_page_lists_files_and_uploads_through_the_attach_verb(client, new_case, staff):
    from django.urls import reverse

    case = new_case()
    client.force_login(staff)
    page = client.get(reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,))).content.decode()
    assert 'enctype="multipart/form-data"' in page
    response = client.post(reverse("wagtailsnippets_cases_case:act", args=(case.pk, "attach")),
                           {"attach-files": [photo("门口.jpg")], "attach-purpose": "before"})
    assert response.status_code == 302
    page = client.get(reverse("wagtailsnippets_cases_case:inspect", args=(case.pk,))).content.decode()
    assert "门口.jpg" in page and reverse(FILE_URL, args=(case.attachments.get().pk,)) in page
    bad = SimpleUploadedFile("x.txt", b"hello", "text/plain")
    response = client.post(reverse("wagtailsnippets_cases_case:act", args=(case.pk, "attach")),
                           {"attach-files": [bad], "attach-purpose": "before"}, follow=True)
    assert "既不是可识别的图片" in response.content.decode() and case.attachments.count() == 1
