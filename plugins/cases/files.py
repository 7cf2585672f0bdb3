"""Checking and storing a case's photos and files (ARCHITECTURE.md decision 10).

Photos go through forms.uploads (checked by content, EXIF/GPS stripped, HEIC to JPEG); the one
other kind of file a case needs — a PDF (a quotation, an invoice, a signed form) — is checked
by its signature. Anything else is refused. Files are written to the private storage before the
database rows; the verb that stores them deletes them again if its transaction fails.
"""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from forms.uploads import _display_name, check_image, delete_stored, private_storage, store_image

__all__ = ["CheckedFile", "ContentFile", "check_file", "check_files", "delete_stored", "private_storage", "store"]

MAX_FILES = 9
MAX_PDF_BYTES = 20 * 1024 * 1024
PDF_SIGNATURE = b"%PDF-"


@dataclass(frozen=True)
class CheckedFile:
    """A checked upload, ready to store: a CheckedImage or a PDF's bytes."""

    name: str
    content_type: str
    size: int
    image: object = None
    content: bytes = b""


def _is_pdf(upload):
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    return PDF_SIGNATURE in head


def check_file(upload):
    name = _display_name(upload)
    if _is_pdf(upload):
        size = upload.size
        if size > MAX_PDF_BYTES:
            raise ValidationError(
                _("文件“%(name)s”有 %(size)s，超过了 %(limit)s 的上限。"),
                code="too_big", params={"name": name, "size": filesizeformat(size), "limit": filesizeformat(MAX_PDF_BYTES)},
            )
        upload.seek(0)
        return CheckedFile(name=name, content_type="application/pdf", size=size, content=upload.read())
    try:
        image = check_image(upload)
    except ValidationError as error:
        if error.code == "not_image":
            raise ValidationError(
                _("文件“%(name)s”既不是可识别的图片，也不是 PDF。请上传照片（JPG、PNG、HEIC 等）或 PDF 文件。"),
                code="not_accepted", params={"name": name},
            ) from None
        raise
    return CheckedFile(name=name, content_type=image.content_type, size=image.size, image=image)


def check_files(uploads):
    """Check every upload; all messages together in one ValidationError."""
    uploads = [upload for upload in uploads or () if upload]
    if len(uploads) > MAX_FILES:
        raise ValidationError(_("一次最多上传 %(limit)s 个文件。"), code="too_many", params={"limit": MAX_FILES})
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_file(upload))
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    return checked


def store(checked):
    """Write one CheckedFile to the private storage; the stored name."""
    if checked.image is not None:
        return store_image(checked.image, prefix="cases")
    name = f"cases/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.pdf"
    return private_storage().save(name, ContentFile(checked.content))
