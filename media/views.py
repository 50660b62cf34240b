"""Serving files of the local backend (the Cloudinary backend's files are served by Cloudinary).

Every answer carries ``X-Content-Type-Options: nosniff``, so a browser uses the type we send and
never sniffs HTML out of a file; only images are shown inline, every other file is a download
(``Content-Disposition: attachment``). The type comes from the extension, which is the one we
gave the file after sniffing its bytes, never the client's.
"""

import mimetypes
import posixpath

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from media.validation import RULES, Category, is_valid_public_id

INLINE_TYPES = frozenset(RULES[Category.IMAGES].allowed)


def local_media_file(request, path: str) -> FileResponse:
    if settings.MEDIA_BACKEND != "local" or not is_valid_public_id(path):
        raise Http404
    if not default_storage.exists(path):
        raise Http404
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(
        default_storage.open(path),
        content_type=content_type,
        as_attachment=content_type not in INLINE_TYPES,
        filename=posixpath.basename(path),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
