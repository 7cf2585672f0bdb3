"""A valid submission: stored with its photos, announced once after commit, thank-you page."""

import io

import pytest
from django.core.files.storage import storages
from PIL import ExifTags, Image

from forms.models import ServiceFormPage, ServiceSubmission, SubmissionPhoto
from forms.services import announce, Outcome
from tests.forms.conftest import form_data, image_bytes, jpeg_bytes, private_files, upload

pytestmark = pytest.mark.django_db


def test_form_page_renders_accessible_form(client, repair_page, estate):
    response = client.get(repair_page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert '<label for="id_name">' in html and 'id="id_name"' in html
    assert '<input type="file" name="photos" accept="image/*" multiple' in html
    assert 'accept="image/*" capture="environment"' in html
    assert "钱塘雅苑" in html  # the project choices
    assert "我们收集您的姓名" in html  # consent text
    assert "期望上门时间" in html  # the editor's own field
    assert 'aria-describedby="id_mobile_helptext"' in html
    assert "js/unit-picker.js" in html and "//cdn" not in html


def test_valid_submission_is_stored_and_shows_a_reference(client, repair_page, estate, received):
    photos = [upload("a.jpg", jpeg_bytes()), upload("b.png", image_bytes("PNG"), "image/png")]
    response = client.post(
        repair_page.url, {**form_data(estate, **{"u671fu671bu4e0au95e8u65f6u95f4": "周六上午"}), "photos": photos}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    submission = ServiceSubmission.objects.get()
    assert (submission.kind, submission.channel) == ("repair", "web")
    assert submission.project == estate.project and submission.unit == estate.unit
    assert submission.mobile == "13800138000"  # normalised
    assert submission.name == "张三"
    assert submission.form_data == {"u671fu671bu4e0au95e8u65f6u95f4": "周六上午"}
    assert submission.photos.count() == 2
    landing = client.get(response["Location"])
    assert landing.status_code == 200
    text = landing.content.decode()
    assert f"受理编号：<strong>{submission.pk}</strong>" in text
    assert "客服将在 30 分钟内与您联系" in text
    assert landing["Cache-Control"] == "private, no-store"


def test_signal_fires_once_after_commit_with_the_documented_arguments(
    client, repair_page, estate, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(repair_page.url, {**form_data(estate), "photos": [upload()]})
        assert response.status_code == 302
        assert received == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    ((sender, kwargs),) = received
    submission = ServiceSubmission.objects.get()
    assert sender is ServiceFormPage
    assert set(kwargs) - {"signal"} == {"page", "submission", "request", "kind", "unit"}
    assert kwargs["page"].pk == repair_page.pk
    assert kwargs["submission"] == submission
    assert kwargs["kind"] == "repair"
    assert kwargs["unit"] == estate.unit
    assert kwargs["request"].method == "POST"
    assert kwargs["submission"].photos.count() == 1


def test_no_signal_and_nothing_stored_for_invalid_input(
    client, repair_page, estate, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(repair_page.url, form_data(estate, mobile="12345"))
    assert response.status_code == 400
    assert callbacks == [] and received == []


def test_photos_are_private_reencoded_and_without_exif(client, repair_page, estate, settings):
    original = jpeg_bytes(size=(800, 600), gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test's premise
    before = private_files()
    response = client.post(repair_page.url, {**form_data(estate), "photos": [upload("IMG_0001.jpg", original)]})
    assert response.status_code == 302
    photo = SubmissionPhoto.objects.get()
    assert private_files() - before == {photo.file.name}
    assert photo.file.name.startswith("forms/") and "IMG_0001" not in photo.file.name
    assert photo.file.storage is storages["private"]
    assert not photo.file.storage.path(photo.file.name).startswith(str(settings.MEDIA_ROOT))
    with photo.file.open("rb") as handle:
        stored = handle.read()
    assert (photo.width, photo.height, photo.size, photo.content_type) == (800, 600, len(stored), "image/jpeg")
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif()  # no EXIF at all, so no GPS
    assert b"Exif" not in stored and b"iPhone" not in stored
    assert photo.original_name == "IMG_0001.jpg"
    # Never in Wagtail's image library.
    from wagtail.images import get_image_model

    assert get_image_model().objects.count() == 0


def test_exif_orientation_is_applied_before_it_is_dropped(client, repair_page, estate):
    rotated = jpeg_bytes(size=(400, 200), orientation=6)  # "rotate 90° clockwise to view"
    assert client.post(repair_page.url, {**form_data(estate), "photos": [upload("r.jpg", rotated)]}).status_code == 302
    photo = SubmissionPhoto.objects.get()
    assert (photo.width, photo.height) == (200, 400)


@pytest.mark.parametrize(
    "name, fmt, mode, stored_type",
    [
        ("iphone.heic", "HEIF", "RGB", "image/jpeg"),
        ("shot.webp", "WEBP", "RGB", "image/jpeg"),
        ("anim.gif", "GIF", "P", "image/jpeg"),
        ("logo.png", "PNG", "RGBA", "image/png"),
    ],
)
def test_accepted_formats(client, repair_page, estate, name, fmt, mode, stored_type):
    color = (10, 120, 200, 100) if mode == "RGBA" else (10 if mode == "P" else (10, 120, 200))
    content = image_bytes(fmt, mode=mode, color=color)
    response = client.post(repair_page.url, {**form_data(estate), "photos": [upload(name, content, "application/octet-stream")]})
    assert response.status_code == 302, response.content.decode()[-3000:]
    photo = SubmissionPhoto.objects.get()
    assert photo.content_type == stored_type
    with photo.file.open("rb") as handle:
        assert Image.open(handle).format == ("PNG" if stored_type == "image/png" else "JPEG")


def test_six_photos_are_accepted(client, repair_page, estate):
    photos = [upload(f"{n}.jpg") for n in range(6)]
    assert client.post(repair_page.url, {**form_data(estate), "photos": photos}).status_code == 302
    assert list(SubmissionPhoto.objects.values_list("position", flat=True)) == [0, 1, 2, 3, 4, 5]


def test_enquiry_may_leave_out_the_unit(client, portal, estate, received):
    from tests.forms.conftest import add_form_page

    page = add_form_page(portal.home, kind="enquiry", title="在线咨询")
    response = client.post(page.url, form_data(estate, building="", unit=""))
    assert response.status_code == 302
    submission = ServiceSubmission.objects.get()
    assert submission.kind == "enquiry" and submission.unit is None


def test_repair_needs_the_unit(client, repair_page, estate):
    response = client.post(repair_page.url, form_data(estate, unit=""))
    assert response.status_code == 400
    assert "请选择房号。" in response.content.decode()


def test_page_under_a_project_fixes_the_project(client, project_repair_page, estate, other_estate):
    response = client.get(project_repair_page.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "甬江花园" not in html  # no other project to choose
    assert f'<input type="hidden" name="project" value="{estate.project.pk}"' in html
    assert "3号楼" in html  # its buildings are listed at once
    assert client.post(project_repair_page.url, form_data(estate)).status_code == 302


def test_unit_prefill_for_qr_codes(client, repair_page, estate):
    response = client.get(repair_page.url, {"unit": estate.unit.pk})
    html = response.content.decode()
    assert f'<option value="{estate.unit.pk}" selected>3-2-1502</option>' in html
    assert f'<option value="{estate.building.pk}" selected>3号楼</option>' in html
    assert f'<option value="{estate.project.pk}" selected>钱塘雅苑</option>' in html


def test_unit_prefill_by_token_through_the_hook(client, repair_page, estate):
    from wagtail import hooks

    from forms.models import RESOLVE_UNIT_HOOK

    with hooks.register_temporarily(RESOLVE_UNIT_HOOK, lambda token: estate.unit if token == "qr-abc" else None):
        html = client.get(repair_page.url, {"unit": "qr-abc"}).content.decode()
        assert f'<option value="{estate.unit.pk}" selected>' in html
        assert 'name="channel" value="qr"' in html
        response = client.post(repair_page.url, form_data(estate, channel="qr"))
    assert response.status_code == 302
    assert ServiceSubmission.objects.get().channel == "qr"


@pytest.mark.parametrize("value", ["999999", "abc", "1" * 40, "-1", "<script>"])
def test_unknown_unit_prefill_is_ignored(client, repair_page, estate, value):
    response = client.get(repair_page.url, {"unit": value})
    assert response.status_code == 200
    assert " selected>3-2-1502" not in response.content.decode()


def test_unit_prefill_of_another_project_is_ignored_on_a_project_page(client, project_repair_page, other_estate):
    response = client.get(project_repair_page.url, {"unit": other_estate.unit.pk})
    assert response.status_code == 200
    assert "甬江花园" not in response.content.decode()


def test_refresh_without_javascript_lists_the_next_level_and_keeps_the_text(client, repair_page, estate):
    data = form_data(estate, building="", unit="", consent=None, description="厨房下水道堵了")
    step1 = client.post(repair_page.url, {**data, "_refresh": "1"})
    assert step1.status_code == 200
    html = step1.content.decode()
    assert "errorlist" not in html and "error-summary" not in html
    assert f'<option value="{estate.building.pk}">3号楼</option>' in html
    assert "厨房下水道堵了" in html and 'value="张三"' in html
    step2 = client.post(repair_page.url, {**data, "building": str(estate.building.pk), "_refresh": "1"})
    assert f'<option value="{estate.unit.pk}">3-2-1502</option>' in step2.content.decode()
    assert ServiceSubmission.objects.count() == 0


def test_choices_json_for_the_script(client, repair_page, estate, other_estate):
    data = client.get(repair_page.url, {"choices": "1", "project": estate.project.pk}).json()
    assert [b["name"] for b in data["buildings"]] == ["3号楼", "5号楼"]
    assert data["units"] == []
    data = client.get(
        repair_page.url, {"choices": "1", "project": estate.project.pk, "building": estate.building.pk}
    ).json()
    assert [u["label"] for u in data["units"]] == ["3-2-902", "3-2-1502"]  # natural order
    # A building of another project lists nothing.
    data = client.get(
        repair_page.url, {"choices": "1", "project": estate.project.pk, "building": other_estate.building.pk}
    ).json()
    assert data["units"] == []


def test_receiver_answer_replaces_the_reference_and_a_failing_receiver_is_harmless(
    client, repair_page, estate, rf
):
    from plugins.signals import form_submitted

    def case_desk(sender, submission, **kwargs):
        return {"reference": "BX20261123-0007", "label": "工单号", "url": "/cases/BX20261123-0007/"}

    def broken(sender, **kwargs):
        raise RuntimeError("plugin bug")

    def evil(sender, **kwargs):
        return {"reference": "<b>X</b>", "url": "javascript:alert(1)"}

    response = client.post(repair_page.url, form_data(estate))
    submission = ServiceSubmission.objects.get()
    form_submitted.connect(case_desk, dispatch_uid="t.case_desk")
    form_submitted.connect(broken, dispatch_uid="t.broken")
    form_submitted.connect(evil, dispatch_uid="t.evil")
    try:
        outcome = Outcome(submission)
        references = announce(repair_page, submission, rf.post("/"), outcome)
    finally:
        for uid in ("t.case_desk", "t.broken", "t.evil"):
            form_submitted.disconnect(dispatch_uid=uid)
    assert response.status_code == 302
    assert references[0] == {"reference": "BX20261123-0007", "label": "工单号", "url": "/cases/BX20261123-0007/"}
    assert references[1]["url"] == ""
    html = client.get(repair_page.done_url(outcome)).content.decode()
    assert "工单号：<strong>BX20261123-0007</strong>" in html
    assert 'href="/cases/BX20261123-0007/"' in html
    assert "&lt;b&gt;X&lt;/b&gt;" in html and "javascript:" not in html


def test_forged_thank_you_token_shows_the_form(client, repair_page):
    response = client.get(repair_page.url, {"done": "eyJpZCI6MX0:forged:sig"})
    assert response.status_code == 200
    assert 'name="mobile"' in response.content.decode()
