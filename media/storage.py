"""The two storage backends behind the upload endpoints, chosen by ``MEDIA_BACKEND``.

``CloudinaryBackend`` goes through the official SDK (uploader for upload/destroy, Admin API for
resource info, usage and ping) with a timeout on every call and the process's circuit breaker in
front. ``LocalBackend`` stores under ``MEDIA_ROOT`` through Django's default storage. Both take the
uploaded file object as it is (a temporary file on disk) and never read it whole.
"""

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import cloudinary
import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
from cloudinary import exceptions as cloudinary_errors
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from urllib3.util.retry import Retry

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.circuit_breaker import CircuitBreaker


@dataclass(frozen=True)
class StoredFile:
    public_id: str
    url: str
    format: str
    bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None


class StorageBackend(Protocol):
    name: str

    def save(self, upload: UploadedFile, *, public_id: str, resource_type: str, extension: str,
             size: int) -> StoredFile: ...  # fmt: skip

    def delete(self, public_id: str, *, resource_type: str, extension: str) -> bool: ...

    def info(self, public_id: str, *, resource_type: str, extension: str) -> dict[str, Any]: ...

    def usage(self) -> dict[str, Any]: ...

    def status(self) -> tuple[bool, str]: ...


def storage_unavailable(reason: str) -> ApplicationError:
    return ApplicationError(
        ErrorCode.SERVICE_UNAVAILABLE,
        "Media storage is unavailable, try again later.",
        status=503,
        details={"reason": reason},
    )


# --- local filesystem -------------------------------------------------------------------------


class LocalBackend:
    """Files under ``MEDIA_ROOT`` as ``<public_id>.<ext>``; served by Django in development."""

    name = "local"

    def _path(self, public_id: str, extension: str) -> str:
        return public_id if public_id.endswith(f".{extension}") else f"{public_id}.{extension}"

    def save(self, upload, *, public_id, resource_type, extension, size):
        upload.seek(0)
        name = default_storage.save(self._path(public_id, extension), upload)
        if not public_id.endswith(f".{extension}"):
            name = name.removesuffix(f".{extension}")  # the storage may have renamed a clash
        return StoredFile(name, default_storage.url(self._path(name, extension)), extension, size)

    def delete(self, public_id, *, resource_type, extension):
        path = self._path(public_id, extension)
        existed = default_storage.exists(path)
        default_storage.delete(path)
        return existed

    def info(self, public_id, *, resource_type, extension):
        path = self._path(public_id, extension)
        if not default_storage.exists(path):
            raise ApplicationError(ErrorCode.NOT_FOUND, "Not found.", status=404)
        return {
            "bytes": default_storage.size(path),
            "url": default_storage.url(path),
            "created_at": default_storage.get_created_time(path).isoformat(),
        }

    def usage(self):
        root = settings.MEDIA_ROOT
        os.makedirs(root, exist_ok=True)
        disk = shutil.disk_usage(root)
        return {"disk": {"total": disk.total, "used": disk.used, "free": disk.free}}

    def status(self):
        root = str(settings.MEDIA_ROOT)
        if os.path.isdir(root) and os.access(root, os.W_OK):
            return True, "local storage writable"
        if not os.path.exists(root):
            ancestor = _nearest_existing_ancestor(root)
            if os.path.isdir(ancestor) and os.access(ancestor, os.W_OK):
                return True, "local storage can be created"
        return False, f"{root} is not writable"


# --- Cloudinary -------------------------------------------------------------------------------

# 4xx answers mean Cloudinary is up and said no: they do not count against the breaker.
_CLIENT_ERRORS = (
    cloudinary_errors.BadRequest,
    cloudinary_errors.AuthorizationRequired,
    cloudinary_errors.NotAllowed,
    cloudinary_errors.NotFound,
    cloudinary_errors.AlreadyExists,
)

logger = logging.getLogger("etrainer.media")


class CircuitOpenError(Exception):
    """Raised instead of calling Cloudinary while its breaker is open."""


# Opened after N consecutive failures; then one call at a time probes (etrainer/circuit_breaker.py).
breaker = CircuitBreaker(
    name="Cloudinary",
    failures=3,
    reset_seconds=30.0,
    open_error=CircuitOpenError,
    logger=logger,
    single_probe=True,
)


def _disable_sdk_retries() -> None:
    """urllib3 retries a timed-out GET three times by default; the breaker is our retry policy.

    The SDK keeps one module-level PoolManager for the upload API and one for the Admin API.
    """
    from cloudinary.api_client import call_api

    for manager in (cloudinary.uploader._http, call_api._http):
        manager.connection_pool_kw["retries"] = Retry(total=0, redirect=0, raise_on_redirect=False)
        manager.clear()


_disable_sdk_retries()


def cloudinary_credentials() -> dict[str, str]:
    """Cloud name, key and secret from CLOUDINARY_URL or the three variables."""
    if settings.CLOUDINARY_URL:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.CLOUDINARY_URL)
        return {
            "cloud_name": parts.hostname or "",
            "api_key": parts.username or "",
            "api_secret": parts.password or "",
        }
    return {
        "cloud_name": settings.CLOUDINARY_CLOUD_NAME,
        "api_key": settings.CLOUDINARY_API_KEY,
        "api_secret": settings.CLOUDINARY_API_SECRET,
    }


class CloudinaryBackend:
    name = "cloudinary"

    def __init__(self) -> None:
        breaker.failures = settings.MEDIA_BREAKER_FAILURES
        breaker.reset_seconds = settings.MEDIA_BREAKER_RESET_SECONDS
        self.options: dict[str, Any] = {
            **cloudinary_credentials(),
            "timeout": settings.MEDIA_CLOUDINARY_TIMEOUT,
            "secure": True,
        }
        if settings.CLOUDINARY_UPLOAD_PREFIX:
            self.options["upload_prefix"] = settings.CLOUDINARY_UPLOAD_PREFIX

    def _call(self, function: Callable[..., Any], *args, **options) -> Any:
        """One SDK call behind the breaker; outages become a 503 ApplicationError."""
        try:
            breaker.before_call()
        except CircuitOpenError as error:
            raise storage_unavailable("circuit open") from error
        try:
            result = function(*args, **{**self.options, **options})
        except (cloudinary_errors.AuthorizationRequired, cloudinary_errors.NotAllowed) as error:
            breaker.record_success()
            raise storage_unavailable("cloudinary refused the credentials") from error
        except _CLIENT_ERRORS:
            breaker.record_success()
            raise
        except Exception as error:
            breaker.record_failure(error)
            raise storage_unavailable("cloudinary error") from error
        breaker.record_success()
        return result

    def save(self, upload, *, public_id, resource_type, extension, size):
        """Files above one chunk go up in chunks (the SDK reads ``upload`` whole otherwise)."""
        upload.seek(0)
        chunk_size = settings.MEDIA_CLOUDINARY_CHUNK_SIZE
        options = {"public_id": public_id, "resource_type": resource_type, "overwrite": False,
                   "filename": f"upload.{extension}"}  # fmt: skip
        try:
            if size > chunk_size:
                result = self._call(cloudinary.uploader.upload_large, upload,
                                    chunk_size=chunk_size, **options)  # fmt: skip
            else:
                result = self._call(cloudinary.uploader.upload, upload, **options)
        except cloudinary_errors.Error as error:
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR, "Media storage refused the file.", status=400,
                details={"reason": str(error)},
            ) from error  # fmt: skip
        return _stored_file(result, fallback_size=size, extension=extension)

    def delete(self, public_id, *, resource_type, extension):
        result = self._call(
            cloudinary.uploader.destroy, public_id, resource_type=resource_type, invalidate=True
        )
        return result.get("result") == "ok"

    def info(self, public_id, *, resource_type, extension):
        try:
            result = self._call(cloudinary.api.resource, public_id, resource_type=resource_type)
        except cloudinary_errors.NotFound as error:
            raise ApplicationError(ErrorCode.NOT_FOUND, "Not found.", status=404) from error
        keys = ("bytes", "width", "height", "duration", "format", "secure_url", "created_at")
        return {key: result[key] for key in keys if key in result}

    def usage(self):
        result = self._call(cloudinary.api.usage)
        keys = ("plan", "last_updated", "credits", "storage", "bandwidth", "resources",
                "derived_resources", "transformations", "requests")  # fmt: skip
        return {key: result[key] for key in keys if key in result}

    def status(self):
        if not self.options["cloud_name"]:
            return False, "cloudinary not configured"
        if breaker.is_open:
            return False, "circuit open"
        return _cached_ping(self)

    def ping(self) -> tuple[bool, str]:
        """A health probe: short timeout, whatever the upload timeout is."""
        try:
            self._call(cloudinary.api.ping, timeout=min(settings.MEDIA_CLOUDINARY_TIMEOUT, 2.0))
        except ApplicationError as error:
            return False, str(error.details.get("reason", error.message))
        except cloudinary_errors.Error as error:
            return False, f"cloudinary refused: {error}"
        return True, "cloudinary reachable"


def _stored_file(result: dict, *, fallback_size: int, extension: str) -> StoredFile:
    return StoredFile(
        public_id=result["public_id"],
        url=result.get("secure_url") or result.get("url", ""),
        format=result.get("format") or extension,
        bytes=int(result.get("bytes") or fallback_size),
        width=result.get("width"),
        height=result.get("height"),
        duration=result.get("duration"),
    )


_last_ping: tuple[float, tuple[bool, str]] | None = None


def _cached_ping(backend: CloudinaryBackend) -> tuple[bool, str]:
    """Health checks come often and the Admin API is rate limited: ping at most once a period."""
    global _last_ping
    now = time.monotonic()
    if _last_ping is not None and now - _last_ping[0] < settings.MEDIA_STATUS_CACHE_SECONDS:
        return _last_ping[1]
    result = backend.ping()
    _last_ping = (now, result)
    return result


def forget_status() -> None:
    global _last_ping
    _last_ping = None


def get_backend() -> StorageBackend:
    if settings.MEDIA_BACKEND == "cloudinary":
        return CloudinaryBackend()
    if settings.MEDIA_BACKEND == "local":
        return LocalBackend()
    raise ApplicationError(
        ErrorCode.SERVER_ERROR, f"Unknown MEDIA_BACKEND {settings.MEDIA_BACKEND!r}.", status=500
    )


def optimized_url(public_id: str, *, resource_type: str, **transformation: Any) -> str:
    """A delivery URL with the transformation: the SDK's URL builder, no network call."""
    url, _ = cloudinary.utils.cloudinary_url(
        public_id,
        resource_type=resource_type,
        secure=True,
        cloud_name=cloudinary_credentials()["cloud_name"] or "demo",
        **transformation,
    )
    return url


def _nearest_existing_ancestor(path: str) -> str:
    """The first existing folder above ``path``: the storage creates the missing ones on save."""
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path
