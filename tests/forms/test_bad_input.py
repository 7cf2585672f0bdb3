"""Bad input: the form again with status 400 and a Chinese message next to the field and in the
summary at the top; nothing stored (no row, no file); never a 500."""

import pytest
from django.test import Client
from django.utils.html import escape

from forms.models import ServiceSubmission, SubmissionPhoto
from tests.forms.conftest import form_data, image_bytes, jpeg_bytes, private_files, upload

pytestmark = pytest.mark.django_db

ELEVEN_MB = 11 * 1024 * 1024


def oversize_jpeg():
    # A real JPEG padded past 10 MB (Pillow would read it): the size check must stop it.
    return jpeg_bytes() + b"\0" * (ELEVEN_MB - len(jpeg_bytes()))


def post_bad(client, page, estate, photos=(), **overrides):
    before = private_files()
    data = form_data(estate, **overrides)
    if photos:
        data["photos"] = list(photos)
    response = client.post(page.url, data)
    assert response.status_code == 400, response.status_code
    assert ServiceSubmission.objects.count() == 0
    assert SubmissionPhoto.objects.count() == 0
    assert private_files() == before
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'role="alert"' in html
    return html


@pytest.mark.parametrize("mobile", ["12345", "1380013800a", "23800138000", "138001380001234"])
def test_wrong_mobile(client, repair_page, estate, mobile):
    html = post_bad(client, repair_page, estate, mobile=mobile)
    assert "应为 11 位中国大陆手机号" in html
    assert 'id="id_mobile_error"' in html and 'aria-invalid="true"' in html
    assert '<a href="#id_mobile">手机号：' in html


def test_oversize_photo(client, repair_page, estate):
    html = post_bad(client, repair_page, estate, photos=[upload("big.jpg", oversize_jpeg())])
    assert "超过了每张 10.0\xa0MB 的上限" in html
    assert "请重新选择照片" in html


@pytest.mark.parametrize(
    "name, content",
    [
        ("photo.jpg", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
        ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200),
        ("photo.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("photo.jpg", jpeg_bytes()[:400]),  # truncated
        ("photo.bmp", image_bytes("BMP")),  # an image, but not a format we take
        ("empty.jpg", b""),
    ],
    ids=["pdf", "exe", "svg", "truncated-jpeg", "bmp", "empty"],
)
def test_non_image_renamed_jpg(client, repair_page, estate, name, content):
    html = post_bad(client, repair_page, estate, photos=[upload(name, content, "image/jpeg")])
    assert ("不是可识别的图片" in html) or ("是空文件" in html)


def test_one_bad_photo_among_good_ones_stores_nothing(client, repair_page, estate):
    photos = [upload("ok1.jpg"), upload("bad.jpg", b"not an image"), upload("ok2.jpg")]
    html = post_bad(client, repair_page, estate, photos=photos)
    assert "文件“bad.jpg”不是可识别的图片" in html


def test_seven_photos(client, repair_page, estate):
    html = post_bad(client, repair_page, estate, photos=[upload(f"{n}.jpg") for n in range(7)])
    assert "最多上传 6 张照片，您选择了 7 张。" in html


def test_missing_consent(client, repair_page, estate):
    html = post_bad(client, repair_page, estate, consent=None)
    assert "请阅读说明并勾选“同意”后再提交。" in html


def test_ten_thousand_character_description(client, repair_page, estate):
    html = post_bad(client, repair_page, estate, description="漏" * 10_000)
    assert "问题描述最多 2000 个字（现在 10000 个）" in html
    assert 'maxlength="2000"' in html


def test_ten_thousand_characters_in_every_text_field(client, repair_page, estate):
    long = "长" * 10_000
    html = post_bad(
        client, repair_page, estate, name=long, description=long, **{"u671fu671bu4e0au95e8u65f6u95f4": long}
    )
    assert "姓名最多 50 个字" in html


def test_forged_unit_of_another_project(client, repair_page, estate, other_estate):
    html = post_bad(client, repair_page, estate, unit=str(other_estate.unit.pk))
    assert "所选房号不属于该楼栋，请重新选择。" in html


def test_forged_building_of_another_project(client, repair_page, estate, other_estate):
    html = post_bad(
        client, repair_page, estate, building=str(other_estate.building.pk), unit=str(other_estate.unit.pk)
    )
    assert "所选楼栋不属于该项目，请重新选择。" in html
    assert "所选房号不属于该楼栋" not in html  # one message for the first wrong level


def test_unit_of_another_building_in_the_same_project(client, repair_page, estate):
    html = post_bad(client, repair_page, estate, unit=str(estate.other_unit.pk))
    assert "所选房号不属于该楼栋" in html


@pytest.mark.parametrize("value", ["999999999", "abc", "1" * 40, "-5", "1 OR 1=1"])
def test_unknown_or_malformed_ids(client, repair_page, estate, value):
    html = post_bad(client, repair_page, estate, project=value)
    assert "所选项目不存在，请重新选择。" in html


def test_another_project_on_a_project_page(client, project_repair_page, estate, other_estate):
    html = post_bad(
        client,
        project_repair_page,
        estate,
        project=str(other_estate.project.pk),
        building=str(other_estate.building.pk),
        unit=str(other_estate.unit.pk),
    )
    assert "所选项目不存在" in html


def test_missing_everything(client, repair_page, estate):
    before = private_files()
    response = client.post(repair_page.url, {})
    assert response.status_code == 400
    html = response.content.decode()
    for message in ("请选择项目。", "请填写姓名。", "请填写手机号。", "请描述您的问题。", "请阅读说明并勾选"):
        assert message in html
    assert ServiceSubmission.objects.count() == 0 and private_files() == before


def test_emoji_and_sql_looking_text_are_stored_verbatim_and_escaped(client, repair_page, estate, admin_client):
    name = "王五😀"
    description = "'; DROP TABLE portal_forms_servicesubmission; -- <script>alert('x')</script> 漏水🏠💧 \" OR 1=1"
    extra = "<img src=x onerror=alert(1)>"
    response = client.post(
        repair_page.url,
        form_data(estate, name=name, description=description, **{"u671fu671bu4e0au95e8u65f6u95f4": extra}),
    )
    assert response.status_code == 302
    submission = ServiceSubmission.objects.get()
    assert (submission.name, submission.description) == (name, description)
    assert submission.form_data["u671fu671bu4e0au95e8u65f6u95f4"] == extra
    # Escaped in the staff listing.
    listing = admin_client.get(f"/admin/forms/submissions/{repair_page.pk}/").content.decode()
    assert escape(description) in listing and "<script>alert('x')</script>" not in listing
    assert escape(extra) in listing and extra not in listing
    assert name in listing
    # Escaped when the owner's form comes back with an error.
    again = client.post(repair_page.url, form_data(estate, description=description, mobile="1"))
    assert again.status_code == 400
    html = again.content.decode()
    assert "<script>alert('x')</script>" not in html and escape(description) in html


def test_null_character_is_refused(client, repair_page, estate):
    post_bad(client, repair_page, estate, description="漏水\x00")


def test_missing_csrf_token_is_refused(repair_page, estate):
    client = Client(enforce_csrf_checks=True)
    assert client.get(repair_page.url).status_code == 200
    response = client.post(repair_page.url, form_data(estate))
    assert response.status_code == 403
    assert ServiceSubmission.objects.count() == 0


def test_with_csrf_token_it_goes_through(repair_page, estate):
    client = Client(enforce_csrf_checks=True)
    client.get(repair_page.url)
    token = client.cookies["csrftoken"].value
    response = client.post(repair_page.url, {**form_data(estate), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_storage_failure_stores_nothing(client, repair_page, estate, monkeypatch):
    from forms import uploads

    real_store = uploads.store_image
    calls = []

    def flaky(checked, prefix):
        calls.append(prefix)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_store(checked, prefix)

    monkeypatch.setattr(uploads, "store_image", flaky)
    before = private_files()
    response = client.post(repair_page.url, {**form_data(estate), "photos": [upload("1.jpg"), upload("2.jpg")]})
    assert response.status_code == 503
    assert "照片暂时无法保存" in response.content.decode()
    assert ServiceSubmission.objects.count() == 0 and SubmissionPhoto.objects.count() == 0
    assert private_files() == before  # the first photo, already written, was removed


def test_garbage_post_never_500(client, repair_page, estate):
    for data in (
        {"project": ["1", "2"], "unit": ["x"]},
        {"photos": "not-a-file"},
        {"consent": "maybe", "channel": "<script>"},
        {"name": "\ud800"},
    ):
        try:
            response = client.post(repair_page.url, data)
        except UnicodeEncodeError:
            continue  # the test client itself cannot encode a lone surrogate
        assert response.status_code == 400
