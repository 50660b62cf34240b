"""Images are decoded and re-encoded by Pillow before anything is stored.

Magic bytes only say how a file starts. Decoding proves the whole file is the image it claims to
be (a truncated or corrupt file is refused), the header's size is checked against a pixel budget
before any pixel is decoded (a 20000x20000 PNG of 1 MB would need 1.6 GB), and re-encoding is the
polyglot rule: only the pixels survive, so HTML or script hidden in comments, metadata chunks or
after the image's end is not in the stored file. EXIF orientation is applied first, then all
metadata dropped (GPS position included).
"""

import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps

from etrainer.api.errors import ApplicationError, ErrorCode

# Sniffed MIME type -> the one Pillow decoder allowed to open it.
PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
}
WEBP_QUALITY = 90
JPEG_QUALITY = 90


@dataclass(frozen=True)
class ReencodedImage:
    file: File
    width: int
    height: int
    size: int


def image_reencode(upload, *, mime: str, name: str) -> ReencodedImage:
    """Decode ``upload`` as ``mime`` and write it again to a temporary file; raise 413 above the
    pixel budget (``UPLOAD_IMAGE_MAX_PIXELS``, every frame counted) and 415 when undecodable."""
    fmt = PILLOW_FORMATS[mime]
    upload.seek(0)
    # Handed over inside the returned File (media_upload closes it); closed here on error.
    out = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
    try:
        with Image.open(upload, formats=[fmt]) as image:
            width, height = image.size
            _check_pixels(name, width, height, getattr(image, "n_frames", 1))
            _save(image, out, fmt)
    except ApplicationError:
        out.close()
        raise
    except Image.DecompressionBombError as error:
        out.close()
        raise _too_many_pixels(name) from error
    except Exception as error:  # Pillow's decoders raise OSError, SyntaxError, ValueError, …
        out.close()
        raise ApplicationError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            _("The file is not a valid image (truncated or corrupt)."),
            status=415,
            details={"file": name, "detected": mime},
        ) from error
    finally:
        upload.seek(0)
    size = out.tell()
    out.seek(0)
    return ReencodedImage(File(out, name=name), width, height, size)


def _check_pixels(name: str, width: int, height: int, frames: int) -> None:
    if width * height * frames > settings.UPLOAD_IMAGE_MAX_PIXELS:
        raise _too_many_pixels(name, width=width, height=height, frames=frames)


def _too_many_pixels(name: str, **size: int) -> ApplicationError:
    limit = settings.UPLOAD_IMAGE_MAX_PIXELS
    return ApplicationError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        _("The image has more than %(limit)s pixels.") % {"limit": limit},
        status=413,
        details={"file": name, "max_pixels": limit, **size},
    )


# What an encoder may take over from the source: how frames play and which colour is clear.
_KEPT_INFO = ("transparency", "background", "duration", "loop", "disposal")


def _save(image: Image.Image, out, fmt: str) -> None:
    """Write the decoded frames only: no EXIF, ICC, XMP, comments, text chunks or trailing bytes.

    Pillow's encoders copy some of these from ``image.info`` (a JPEG or GIF comment, for one), so
    ``info`` is cut down to the playback keys before saving, and EXIF is passed explicitly empty.
    """
    image.load()
    image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    options: dict = {}
    if fmt == "JPEG":
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            # Same quantization tables: no loss beyond the source's own.
            image.save(out, fmt, quality="keep", subsampling="keep", exif=b"")
        else:
            ImageOps.exif_transpose(image).save(out, fmt, quality=JPEG_QUALITY, exif=b"")
        return
    if getattr(image, "n_frames", 1) > 1:
        options["save_all"] = True
    if fmt == "GIF":
        options["comment"] = b""  # frames read after a seek bring their comment back into info
    if fmt == "WEBP":
        options.update(quality=WEBP_QUALITY, exif=b"", xmp=b"")
    image.save(out, fmt, **options)
