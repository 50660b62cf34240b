"""Files under ``MEDIA_ROOT`` through Django's default storage."""

import os
import shutil

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from media.storage.base import StoredFile


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
            raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."), status=404)
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


def _nearest_existing_ancestor(path: str) -> str:
    """The first existing folder above ``path``: the storage creates the missing ones on save."""
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path
