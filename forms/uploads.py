"""Photo uploads checked by content and stored privately (ARCHITECTURE.md decision 10).

The one helper for every owner or staff photo: the portal's forms use it now, the case desk
and inspections reuse it. Two steps, so a form can reject bad input before anything is written:

    checked = check_images(request.FILES.getlist("photos"))   # raises ValidationError (Chinese)
    name = store_image(checked[0], prefix="forms")           # writes to storages["private"]

``check_image`` never trusts the file name or the browser's content type: Pillow must recognise
the bytes as one of the accepted formats and decode them completely. The photo is turned
upright by its EXIF orientation, then re-encoded from pixels alone, so EXIF (GPS position,
camera serial, time) and XMP never reach storage; only the colour profile is kept. Output is
JPEG, or PNG when the picture has transparency. Files go to the private storage, never to
Wagtail's image library and never under MEDIA_URL; a view that checks permission serves them.
"""

import io
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

register_heif_opener()  # iPhone photos arrive as HEIC

MAX_BYTES = 10 * 1024 * 1024  # per photo, as uploaded
MAX_FILES = 6
# Bigger than any phone camera (a 48 MP iPhone photo is 8064 × 6048), far below what would
# exhaust a worker's memory when decoded.
MAX_PIXELS = 60_000_000
# Stored photos are scaled down to this longest side: plenty to see a crack, a quarter of the
# bytes of a 48 MP original.
MAX_SIDE = 4096
JPEG_QUALITY = 85
#: Pillow format names accepted; HEIF is what pillow-heif reports for .heic/.heif.
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "HEIF", "MPO"}  # MPO: JPEG from some cameras


@dataclass(frozen=True)
class CheckedImage:
    """A photo that passed the checks, re-encoded and ready to store."""

    content: bytes
    extension: str  # "jpg" or "png"
    content_type: str  # "image/jpeg" or "image/png"
    width: int
    height: int
    original_name: str
    original_format: str

    @property
    def size(self):
        return len(self.content)


def _reject(message, code, **params):
    raise ValidationError(message, code=code, params=params or None)


def _display_name(upload):
    name = getattr(upload, "name", "") or ""
    return name.replace("\\", "/").rsplit("/", 1)[-1][:100]


def _has_transparency(image):
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = image.getchannel("A")
        return alpha.getextrema()[0] < 255
    if image.mode == "P" and "transparency" in image.info:
        return True
    return False


def check_image(upload, max_bytes=MAX_BYTES):
    """Check one uploaded file and return a CheckedImage, or raise ValidationError.

    ``upload`` is a Django UploadedFile (or any file object with ``size`` and ``name``).
    """
    name = _display_name(upload)
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    if size == 0:
        _reject(_("照片“%(name)s”是空文件，请重新选择。"), "empty", name=name)
    if size > max_bytes:
        _reject(
            _("照片“%(name)s”有 %(size)s，超过了每张 %(limit)s 的上限，请压缩后再传。"),
            "too_big",
            name=name,
            size=filesizeformat(size),
            limit=filesizeformat(max_bytes),
        )
    not_an_image = _(
        "文件“%(name)s”不是可识别的图片。请上传 JPG、PNG、WebP、GIF 或 iPhone 的 HEIC 照片。"
    )
    too_many_pixels = _("照片“%(name)s”的像素过大（%(width)s×%(height)s），请缩小后再传。")
    try:
        upload.seek(0)
        image = Image.open(upload)
        image_format = image.format
        if image_format not in ACCEPTED_FORMATS:
            _reject(not_an_image, "not_image", name=name)
        width, height = image.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            _reject(too_many_pixels, "too_many_pixels", name=name, width=width, height=height)
        image.load()  # decodes everything: truncated or corrupt files fail here
        icc_profile = image.info.get("icc_profile")
        image = ImageOps.exif_transpose(image)  # upright before the orientation tag goes
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        _reject(too_many_pixels, "too_many_pixels", name=name, width="?", height="?")
    except Exception:  # noqa: BLE001
        # Pillow and its plugins signal unreadable input with many exception types (OSError,
        # ValueError, SyntaxError, struct.error, EOFError …); all mean "not an image we take".
        _reject(not_an_image, "not_image", name=name)

    if image.mode == "P":
        image = image.convert("RGBA")
    transparent = _has_transparency(image)
    if transparent:
        pixels = image.convert("RGBA")
        out_format, extension, content_type = "PNG", "png", "image/png"
    else:
        pixels = image.convert("RGB")
        out_format, extension, content_type = "JPEG", "jpg", "image/jpeg"
    if max(pixels.size) > MAX_SIDE:
        pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Only pixels go on: no EXIF, XMP, comments or text chunks from the original.
    pixels.info = {}
    buffer = io.BytesIO()
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if out_format == "JPEG":
        pixels.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    else:
        pixels.save(buffer, "PNG", optimize=True, **options)
    return CheckedImage(
        content=buffer.getvalue(),
        extension=extension,
        content_type=content_type,
        width=pixels.width,
        height=pixels.height,
        original_name=name,
        original_format=image_format,
    )


def check_images(uploads, max_files=MAX_FILES, max_bytes=MAX_BYTES):
    """Check a list of uploads; all messages together in one ValidationError."""
    uploads = [upload for upload in uploads if upload]
    if len(uploads) > max_files:
        raise ValidationError(
            ngettext(
                "最多上传 %(max)d 张照片，您选择了 %(count)d 张。",
                "最多上传 %(max)d 张照片，您选择了 %(count)d 张。",
                max_files,
            ),
            code="too_many",
            params={"max": max_files, "count": len(uploads)},
        )
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_image(upload, max_bytes=max_bytes))
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return checked


def private_storage():
    """The private storage (STORAGES["private"]); a callable so FileFields can name it."""
    return storages["private"]


def store_image(checked, prefix):
    """Write a CheckedImage to the private storage under ``<prefix>/YYYY/MM/<random>.<ext>``
    and return the stored name. The owner's file name is never part of the path."""
    today = timezone.localdate()
    name = f"{prefix.strip('/')}/{today:%Y/%m}/{uuid.uuid4().hex}.{checked.extension}"
    return private_storage().save(name, ContentFile(checked.content))


def delete_stored(names):
    """Best-effort removal of stored files (after a rolled-back transaction)."""
    storage = private_storage()
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            pass
