"""The two storage backends behind the upload endpoints, chosen by ``MEDIA_BACKEND``.

``CloudinaryBackend`` goes through the official SDK (uploader for upload/destroy, Admin API for
resource info, usage and ping) with a timeout on every call and the process's circuit breaker in
front. ``LocalBackend`` stores under ``MEDIA_ROOT`` through Django's default storage. Both take the
uploaded file object as it is (a temporary file on disk) and never read it whole.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from media.storage.base import StorageBackend, StoredFile, storage_unavailable
from media.storage.cloudinary_backend import (
    CircuitOpenError,
    CloudinaryBackend,
    breaker,
    cloudinary_credentials,
    forget_status,
    optimized_url,
)
from media.storage.local import LocalBackend

__all__ = [
    "CircuitOpenError",
    "CloudinaryBackend",
    "LocalBackend",
    "StorageBackend",
    "StoredFile",
    "breaker",
    "cloudinary_credentials",
    "forget_status",
    "get_backend",
    "optimized_url",
    "storage_unavailable",
]


def get_backend() -> StorageBackend:
    if settings.MEDIA_BACKEND == "cloudinary":
        return CloudinaryBackend()
    if settings.MEDIA_BACKEND == "local":
        return LocalBackend()
    raise ApplicationError(
        ErrorCode.SERVER_ERROR,
        _("Unknown MEDIA_BACKEND %(backend)r.") % {"backend": settings.MEDIA_BACKEND},
        status=500,
    )
