"""Attachments to referrals: PDF, JPEG or PNG, at most 10 MB each, judged by their
content, never by the name or the browser's declared type.

PDF: starts with "%PDF-" and carries an "%%EOF" marker in its last kilobyte.
JPEG/PNG: Pillow must recognise the format from the bytes and `verify()` the file.
A file renamed to .pdf, an HTML page called photo.png, or a truncated image is refused.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
TYPES = {"PDF": "application/pdf", "JPEG": "image/jpeg", "PNG": "image/png"}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class BadAttachment(ValueError):
    """`str()` names the file and says what is wrong with it."""


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile[bytes]
    name: str
    content_type: str
    size: int
    sha256: str


def _kind(head: bytes, data: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf" if b"%%EOF" in data[-1024:] else None
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return TYPES.get(fmt or "")


def check_upload(upload: UploadedFile[bytes]) -> CheckedFile:
    name = (upload.name or "attachment").replace("/", "_").replace("\\", "_")[-150:]
    size = upload.size or 0
    if size > MAX_BYTES:
        raise BadAttachment(f"{name}: larger than 10 MB ({size / 1024 / 1024:.1f} MB).")
    if size == 0:
        raise BadAttachment(f"{name}: the file is empty.")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    content_type = _kind(data[:8], data)
    if content_type is None:
        raise BadAttachment(
            f"{name}: not a PDF, JPEG or PNG file (checked by its content, not its name)."
        )
    return CheckedFile(
        upload=upload,
        name=name,
        content_type=content_type,
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def check_uploads(uploads: list[UploadedFile[bytes]]) -> list[CheckedFile]:
    if len(uploads) > MAX_FILES:
        raise BadAttachment(f"At most {MAX_FILES} files, please ({len(uploads)} were attached).")
    return [check_upload(u) for u in uploads]
