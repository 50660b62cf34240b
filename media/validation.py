"""What each upload category accepts, and the checks every file passes before anything is stored.

The real type comes from the file's bytes (filetype's signatures, plus a strict plain-text check);
the client's file name and Content-Type header never decide. Images are then decoded and
re-encoded (``media.images``); documents are refused when they hold HTML, SVG or script. Files
are read only in small chunks: a 100 MB video is never in memory.
"""

import codecs
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import filetype
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from etrainer.api.errors import ApplicationError, ErrorCode
from media.images import PILLOW_FORMATS, image_reencode

MB = 1024 * 1024
SNIFF_BYTES = 8192
TEXT_CHUNK_BYTES = 64 * 1024
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
PUBLIC_ID_PATTERN = r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*(?:\.[A-Za-z0-9]{1,8})?"
_PUBLIC_ID = re.compile(PUBLIC_ID_PATTERN)
PUBLIC_ID_MAX_LENGTH = 255


class Category(models.TextChoices):
    IMAGES = "images", "Images"
    AUDIO = "audio", "Audio"
    VIDEOS = "videos", "Videos"
    DOCUMENTS = "documents", "Documents"


@dataclass(frozen=True)
class CategoryRules:
    max_bytes: int
    max_files: int
    resource_type: str  # Cloudinary's: image, video (audio too) or raw
    allowed: dict[str, str]  # MIME type -> file extension
    keeps_extension: bool = False  # raw assets keep it in their public id


TEXT_MIME = "text/plain"

RULES: dict[str, CategoryRules] = {
    Category.IMAGES: CategoryRules(
        max_bytes=10 * MB,
        max_files=5,
        resource_type="image",
        allowed={"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"},
    ),
    Category.AUDIO: CategoryRules(
        max_bytes=50 * MB,
        max_files=5,
        resource_type="video",
        allowed={
            "audio/mpeg": "mp3",
            "audio/x-wav": "wav",
            "audio/ogg": "ogg",
            "audio/mp4": "m4a",
            "audio/aac": "aac",
        },
    ),
    Category.VIDEOS: CategoryRules(
        max_bytes=100 * MB,
        max_files=1,
        resource_type="video",
        allowed={"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov"},
    ),
    Category.DOCUMENTS: CategoryRules(
        max_bytes=20 * MB,
        max_files=5,
        resource_type="raw",
        keeps_extension=True,
        allowed={
            "application/pdf": "pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
            TEXT_MIME: "txt",
        },
    ),
}


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check: its real type and the extension that goes with it.

    For images ``upload`` is the re-encoded file (``media.images``) and ``size`` its size.
    ``stem`` is the safe base of the public id; ``original_name`` the client's name, made safe,
    with its extension.
    """

    upload: UploadedFile | File
    original_name: str
    mime: str
    extension: str
    size: int
    stem: str = "file"
    width: int | None = None
    height: int | None = None


MULTIPART_OVERHEAD_BYTES = MB


def request_max_bytes(category: str) -> int:
    """The largest body an upload request may have: every allowed file plus the form's framing.

    nginx.conf's ``client_max_body_size`` of each upload route is this figure (a test compares).
    """
    rules = RULES[category]
    return rules.max_files * rules.max_bytes + MULTIPART_OVERHEAD_BYTES


def request_too_large(category: str, content_length: int) -> bool:
    """Cheap guard before parsing: no request may exceed ``request_max_bytes``."""
    return content_length > request_max_bytes(category)


def check_uploads(category: str, uploads: Sequence[UploadedFile]) -> list[CheckedFile]:
    """Check count, then every file's size and sniffed type; raise before anything is stored."""
    rules = RULES[category]
    if not uploads:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, _("No file was sent."), status=400)
    if len(uploads) > rules.max_files:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            ngettext(
                "At most %(count)d file per request.",
                "At most %(count)d files per request.",
                rules.max_files,
            )
            % {"count": rules.max_files},
            status=400,
            details={"max_files": rules.max_files, "received": len(uploads)},
        )
    checked: list[CheckedFile] = []
    try:
        for upload in uploads:
            checked.append(_check_one(rules, upload))
    except ApplicationError:
        for item in checked:
            item.upload.close()  # re-encoded images of the batch: temporary files
        raise
    return checked


def _check_one(rules: CategoryRules, upload: UploadedFile) -> CheckedFile:
    name = safe_original_name(upload.name or "")
    if not upload.size:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, _("The file is empty."), status=400, details={"file": name}
        )
    if upload.size > rules.max_bytes:
        raise ApplicationError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            _("The file is larger than %(megabytes)d MB.") % {"megabytes": rules.max_bytes // MB},
            status=413,
            details={"file": name, "max_bytes": rules.max_bytes, "size": upload.size},
        )
    mime = sniff_mime(upload)
    if mime not in rules.allowed:
        raise ApplicationError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            _("This type of file is not accepted here."),
            status=415,
            details={"file": name, "detected": mime, "allowed": sorted(rules.allowed)},
        )
    stem, extension = sanitized_name(upload.name or ""), rules.allowed[mime]
    if mime in PILLOW_FORMATS:
        image = image_reencode(upload, mime=mime, name=name)
        return CheckedFile(image.file, name, mime, extension, image.size, stem,
                           image.width, image.height)  # fmt: skip
    if rules.resource_type == "raw" and contains_markup(upload, text=mime == TEXT_MIME):
        raise ApplicationError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            _("Documents may not contain HTML, SVG or script."),
            status=415,
            details={"file": name, "detected": mime},
        )
    return CheckedFile(upload, name, mime, extension, upload.size, stem)


# Markup a browser would run. Binary documents are checked for the long, unambiguous tags only
# (a short tag would match compressed bytes by chance); text for any HTML tag or an XML prolog.
_BINARY_MARKUP = re.compile(rb"<\s*(?:script|html|svg|body|iframe)[\s/>]|<!doctype\s+html", re.I)
_TEXT_MARKUP = re.compile(
    rb"<\s*(?:script|html|svg|body|iframe|frame|frameset|object|embed|img|a|meta|link|style|form"
    rb"|math|base|input|video|audio|details|marquee)[\s/>]|<!doctype|<\?xml|javascript:",
    re.I,
)
_MARKUP_OVERLAP = 64


def contains_markup(upload: UploadedFile, *, text: bool) -> bool:
    """Scan the whole file in chunks (with an overlap, so a tag across two chunks is seen)."""
    pattern = _TEXT_MARKUP if text else _BINARY_MARKUP
    tail = b""
    try:
        for chunk in upload.chunks(TEXT_CHUNK_BYTES):
            window = tail + chunk
            if pattern.search(window):
                return True
            tail = window[-_MARKUP_OVERLAP:]
    finally:
        upload.seek(0)
    return False


def sniff_mime(upload: UploadedFile) -> str:
    """The MIME type the bytes say, ``text/plain`` for strict UTF-8 text, else ``unknown``."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    return TEXT_MIME if _is_plain_text(upload) else "unknown"


def _is_plain_text(upload: UploadedFile) -> bool:
    """Valid UTF-8 with no NUL or other control bytes besides whitespace, read chunk by chunk."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        for chunk in upload.chunks(TEXT_CHUNK_BYTES):
            if _has_control_bytes(chunk):
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        upload.seek(0)
    return True


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f") + b"\x7f"


def _has_control_bytes(chunk: bytes) -> bool:
    return len(chunk.translate(None, _CONTROL_BYTES)) != len(chunk)


def sanitized_name(name: str) -> str:
    """The client's base name reduced to ``[A-Za-z0-9_-]`` (no path, no extension), ≤ 40 chars."""
    base = re.split(r"[/\\]", name)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    cleaned = _NAME_UNSAFE.sub("-", ascii_stem).strip("-_")[:40].strip("-_")
    return cleaned or "file"


def safe_original_name(name: str) -> str:
    """The client's name made safe as ``sanitized_name`` does, keeping a short extension."""
    base = re.split(r"[/\\]", name)[-1]
    stem = sanitized_name(name)
    extension = base.rsplit(".", 1)[1] if "." in base.lstrip(".") else ""
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:8]
    return f"{stem}.{extension}" if extension else stem


def new_public_id(*, folder: str, category: str, owner_id: str, checked: CheckedFile) -> str:
    """``folder/category/owner/name_random`` (+ extension for raw files): never the client path."""
    suffix = secrets.token_hex(6)
    public_id = f"{folder}/{category}/{owner_id}/{checked.stem}_{suffix}"
    if RULES[category].keeps_extension:
        public_id += f".{checked.extension}"
    return public_id


def is_valid_public_id(public_id: str) -> bool:
    return len(public_id) <= PUBLIC_ID_MAX_LENGTH and _PUBLIC_ID.fullmatch(public_id) is not None
