"""What every storage backend returns and raises."""

from dataclasses import dataclass
from typing import Any, Protocol

from django.core.files import File
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode


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

    def save(self, upload: File, *, public_id: str, resource_type: str, extension: str,
             size: int) -> StoredFile: ...  # fmt: skip

    def delete(self, public_id: str, *, resource_type: str, extension: str) -> bool: ...

    def info(self, public_id: str, *, resource_type: str, extension: str) -> dict[str, Any]: ...

    def usage(self) -> dict[str, Any]: ...

    def status(self) -> tuple[bool, str]: ...


def storage_unavailable(reason: str) -> ApplicationError:
    return ApplicationError(
        ErrorCode.SERVICE_UNAVAILABLE,
        _("Media storage is unavailable, try again later."),
        status=503,
        details={"reason": reason},
    )
