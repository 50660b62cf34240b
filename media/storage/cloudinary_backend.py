"""Cloudinary through its official SDK, with a timeout on every call and a circuit breaker."""

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import cloudinary
import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
from cloudinary import exceptions as cloudinary_errors
from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.util.retry import Retry

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.circuit_breaker import CircuitBreaker
from media.storage.base import StoredFile, storage_unavailable

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


def sdk_retries_disable() -> None:
    """urllib3 retries a timed-out GET three times by default; the breaker is our retry policy.

    The SDK builds its connection pools with urllib3's default policy and has no option to pass
    one, so the default itself (urllib3's public ``Retry.DEFAULT``, read when a pool is created)
    is set to no retries, for this process. Every other client here passes its own policy
    (requests, redis-py) or does not use urllib3.
    """
    Retry.DEFAULT = Retry(total=0, redirect=0, raise_on_redirect=False)


sdk_retries_disable()


def cloudinary_credentials() -> dict[str, str]:
    """Cloud name, key and secret from CLOUDINARY_URL or the three variables."""
    if settings.CLOUDINARY_URL:
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
                ErrorCode.VALIDATION_ERROR, _("Media storage refused the file."), status=400,
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
            raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."), status=404) from error
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
