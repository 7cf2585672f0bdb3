"""forms.uploads on its own: the helper the case desk will reuse."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from forms import uploads
from forms.forms import ServiceForm
from tests.forms.conftest import image_bytes, jpeg_bytes


def up(content, name="x.jpg"):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def messages(error):
    return " ".join(error.messages)


def test_content_decides_not_the_name():
    checked = uploads.check_image(up(image_bytes("PNG"), name="looks-like.pdf"))
    assert checked.extension == "jpg" and checked.original_format == "PNG"
    with pytest.raises(ValidationError) as error:
        uploads.check_image(up(b"GIF89a but not really", name="real.gif"))
    assert "不是可识别的图片" in messages(error.value)


def test_size_limit_is_checked_before_decoding():
    content = jpeg_bytes()
    assert uploads.check_image(up(content), max_bytes=len(content))
    with pytest.raises(ValidationError) as error:
        uploads.check_image(up(content), max_bytes=len(content) - 1)
    assert error.value.code == "too_big"


def test_too_many_pixels(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PIXELS", 100 * 100)
    with pytest.raises(ValidationError) as error:
        uploads.check_image(up(jpeg_bytes(size=(101, 100))))
    assert error.value.code == "too_many_pixels"


def test_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses above twice this
    with pytest.raises(ValidationError) as error:
        uploads.check_image(up(image_bytes("PNG", size=(100, 100))))
    assert error.value.code == "too_many_pixels"


def test_large_photos_are_scaled_down(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_SIDE", 100)
    checked = uploads.check_image(up(jpeg_bytes(size=(400, 200))))
    assert (checked.width, checked.height) == (100, 50)


def test_palette_with_transparency_stays_png():
    image = Image.new("P", (20, 20), 0)
    image.info["transparency"] = 0
    buffer = io.BytesIO()
    image.save(buffer, "GIF", transparency=0)
    checked = uploads.check_image(up(buffer.getvalue(), name="t.gif"))
    assert checked.content_type == "image/png"


def test_opaque_rgba_becomes_jpeg():
    checked = uploads.check_image(up(image_bytes("PNG", mode="RGBA", color=(1, 2, 3, 255))))
    assert checked.content_type == "image/jpeg"


def test_check_images_counts_and_collects_every_error():
    with pytest.raises(ValidationError) as error:
        uploads.check_images([up(jpeg_bytes())] * 7)
    assert error.value.code == "too_many"
    with pytest.raises(ValidationError) as error:
        uploads.check_images([up(b"a", "1.jpg"), up(jpeg_bytes()), up(b"b", "2.jpg")])
    assert len(error.value.messages) == 2
    assert uploads.check_images([]) == []


@pytest.mark.django_db
def test_store_image_writes_to_the_private_storage():
    checked = uploads.check_image(up(jpeg_bytes()))
    name = uploads.store_image(checked, prefix="cases")
    storage = storages["private"]
    try:
        assert name.startswith("cases/") and name.endswith(".jpg")
        with storage.open(name) as handle:
            assert handle.read() == checked.content
    finally:
        uploads.delete_stored([name])
    assert not storage.exists(name)


def test_help_text_matches_the_limits():
    text = str(ServiceForm.base_fields["photos"].help_text)
    assert f"最多 {uploads.MAX_FILES} 张" in text
    assert f"{uploads.MAX_BYTES // (1024 * 1024)} MB" in text
