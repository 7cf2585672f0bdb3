"""Staff side: the submissions listing and the permission-checked photo view."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from forms.models import ServiceSubmission, SubmissionPhoto
from tests import factories
from tests.forms.conftest import add_form_page, form_data, private_files, staff_for_page, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(client, repair_page, estate):
    response = client.post(repair_page.url, {**form_data(estate), "photos": [upload("a.jpg")]})
    assert response.status_code == 302
    return SubmissionPhoto.objects.select_related("submission").get()


def photo_url(photo):
    return reverse("portal_forms:photo", args=[photo.pk])


def test_superuser_gets_the_photo(admin_client, photo):
    response = admin_client.get(photo_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    with photo.file.open("rb") as handle:
        assert b"".join(response.streaming_content) == handle.read()


def test_staff_who_may_read_the_page_submissions_and_serve_the_project(client, portal, photo, estate):
    user = staff_for_page(portal.home, projects=[estate.project])
    client.force_login(user)
    assert client.get(photo_url(photo)).status_code == 200


def test_staff_of_another_project_get_404(client, portal, photo, other_estate):
    user = staff_for_page(portal.home, projects=[other_estate.project])
    client.force_login(user)
    assert client.get(photo_url(photo)).status_code == 404


def test_staff_without_rights_on_the_form_page_get_404(client, portal, photo, estate):
    other_page = add_form_page(portal.home, kind="complaint", title="投诉建议")
    user = staff_for_page(other_page, projects=[estate.project])  # rights on another form only
    client.force_login(user)
    assert client.get(photo_url(photo)).status_code == 404
    reader = staff_for_page(portal.home, projects=[estate.project], page_perms=("view_page",))
    client.force_login(reader)  # may view pages but not read submissions
    assert client.get(photo_url(photo)).status_code == 404


def test_anonymous_and_non_admin_users_get_403(client, photo):
    assert client.get(photo_url(photo)).status_code == 403
    outsider = factories.UserFactory(is_staff=False)
    client.force_login(outsider)
    assert client.get(photo_url(photo)).status_code == 403


def test_unknown_photo_and_missing_file_get_404(admin_client, photo):
    assert admin_client.get(reverse("portal_forms:photo", args=[photo.pk + 1000])).status_code == 404
    photo.file.storage.delete(photo.file.name)
    assert admin_client.get(photo_url(photo)).status_code == 404


def test_only_get_and_head(admin_client, photo):
    assert admin_client.post(photo_url(photo)).status_code == 405
    assert admin_client.head(photo_url(photo)).status_code == 200


def test_private_files_are_not_under_media_root_nor_served_from_media_url(client, photo, settings):
    import os

    path = os.path.realpath(photo.file.path)
    assert not path.startswith(os.path.realpath(settings.MEDIA_ROOT) + os.sep)
    assert path.startswith(os.path.realpath(settings.STORAGES["private"]["OPTIONS"]["location"]) + os.sep)
    assert client.get(settings.MEDIA_URL + photo.file.name).status_code == 404


def test_listing_shows_submissions_with_photo_links(admin_client, repair_page, photo, estate):
    response = admin_client.get(reverse("wagtailforms:list_submissions", args=[repair_page.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert photo_url(photo) in html
    for text in ("受理编号", "房号", "3-2-1502", "钱塘雅苑", "13800138000", "张三", "期望上门时间"):
        assert text in html


def test_listing_is_narrowed_to_the_staff_members_projects(client, portal, repair_page, estate, other_estate):
    client.post(repair_page.url, form_data(estate, name="甲业主"))
    client.post(
        repair_page.url,
        form_data(
            other_estate,
            name="乙业主",
        ),
    )
    assert ServiceSubmission.objects.count() == 2
    user = staff_for_page(portal.home, projects=[estate.project])
    client.force_login(user)
    html = client.get(reverse("wagtailforms:list_submissions", args=[repair_page.pk])).content.decode()
    assert "甲业主" in html and "乙业主" not in html


def test_listing_export_has_photo_addresses(admin_client, repair_page, photo):
    response = admin_client.get(
        reverse("wagtailforms:list_submissions", args=[repair_page.pk]), {"export": "csv"}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "http://testserver" + photo_url(photo) in body
    assert "13800138000" in body


def test_listing_query_count_does_not_grow_with_submissions(
    admin_client, client, repair_page, estate, django_assert_max_num_queries
):
    url = reverse("wagtailforms:list_submissions", args=[repair_page.pk])
    client.post(repair_page.url, {**form_data(estate), "photos": [upload()]})
    with django_assert_max_num_queries(40) as small:
        assert admin_client.get(url).status_code == 200
    for n in range(15):
        client.post(repair_page.url, {**form_data(estate, name=f"业主{n}"), "photos": [upload(), upload()]})
    with django_assert_max_num_queries(40) as large:
        assert admin_client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_deleting_submissions_deletes_their_files(
    admin_client, repair_page, photo, django_capture_on_commit_callbacks
):
    name = photo.file.name
    assert name in private_files()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("wagtailforms:delete_submissions", args=[repair_page.pk])
            + f"?selected-submissions={photo.submission_id}"
        )
    assert response.status_code == 302
    assert not ServiceSubmission.objects.exists() and not SubmissionPhoto.objects.exists()
    assert name not in private_files()


def test_staff_need_page_rights_for_the_listing(client, portal, repair_page, estate):
    group = Group.objects.create(name="admin-only")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    user = factories.UserFactory(is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    response = client.get(reverse("wagtailforms:list_submissions", args=[repair_page.pk]))
    assert response.status_code in (302, 403)
