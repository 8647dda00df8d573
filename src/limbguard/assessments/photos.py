"""Wound photos: checked by content (never by name or declared type), stored outside the
web root under MEDIA_ROOT, with a thumbnail.

A file is accepted only when Pillow opens it as JPEG or PNG, verifies it, and decodes it
within the size and pixel limits below. The stored name is random; nothing of the
upload's own name reaches the file system.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

# Project decisions: a phone photo is 2-8 MB; 10 MB leaves room and refuses videos and
# archives. 40 megapixels is above any phone camera and far below a decompression bomb.
MAX_PHOTO_BYTES: Final = 10 * 1024 * 1024
MAX_PHOTO_PIXELS: Final = 40_000_000
THUMBNAIL_PX: Final = 320
ALLOWED_FORMATS: Final = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
PHOTO_DIR: Final = "wound-photos"


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    image_format: str
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str


def _refuse(message: str) -> ValidationError:
    return ValidationError({"photos": message})


def check_photo(upload: UploadedFile[bytes]) -> CheckedPhoto:
    """Read and check one upload; raise ValidationError on the `photos` field otherwise."""
    name = upload.name or "photo"
    if upload.size is not None and upload.size > MAX_PHOTO_BYTES:
        raise _refuse(f"{name}: larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise _refuse(f"{name}: larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise _refuse(f"{name}: the file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format or ""
                if image_format not in ALLOWED_FORMATS:
                    raise _refuse(f"{name}: not a JPEG or PNG image.")
                width, height = probe.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise _refuse(f"{name}: more than {MAX_PHOTO_PIXELS:,} pixels.")
                probe.verify()
            with Image.open(io.BytesIO(data)) as full:
                full.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning):
        raise _refuse(f"{name}: not a readable JPEG or PNG image.") from None
    content_type, extension = ALLOWED_FORMATS[image_format]
    return CheckedPhoto(
        data=data,
        image_format=image_format,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def store(photo: CheckedPhoto) -> tuple[str, str]:
    """Write the photo and its thumbnail; return both paths relative to MEDIA_ROOT."""
    folder = media_root() / PHOTO_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = uuid.uuid4().hex
    original = f"{PHOTO_DIR}/{stem}.{photo.extension}"
    thumbnail = f"{PHOTO_DIR}/{stem}.thumb.jpg"
    with Image.open(io.BytesIO(photo.data)) as image:
        small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        buffer = io.BytesIO()
        small.save(buffer, format="JPEG", quality=85)
    for relative, content in ((original, photo.data), (thumbnail, buffer.getvalue())):
        path = media_root() / relative
        path.write_bytes(content)
        path.chmod(0o600)
    return original, thumbnail


def remove(*relative: str) -> None:
    """Undo `store` when the transaction that needed the files fails."""
    for name in relative:
        (media_root() / name).unlink(missing_ok=True)


def resolve(relative: str) -> Path:
    """The absolute path of a stored file; refuses anything outside MEDIA_ROOT."""
    root = media_root().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"photo path escapes MEDIA_ROOT: {relative!r}")
    return path
