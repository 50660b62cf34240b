"""Writes: store validated uploads and record them; delete them again."""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from etrainer.api.errors import ApplicationError
from etrainer.metrics import record_upload
from media.models import MediaAsset
from media.selectors import media_asset_get
from media.storage import StorageBackend, get_backend
from media.validation import RULES, CheckedFile, check_uploads, new_public_id

logger = logging.getLogger("etrainer.media")


def media_upload(*, owner, category: str, uploads: Sequence[UploadedFile]) -> list[MediaAsset]:
    """Validate every file first (nothing is stored if one fails), then store and record each.

    Each stored file gets its row at once, so nothing in storage is ever unrecorded. When a later
    file of the batch fails, the earlier ones are removed again (best effort) before the error.
    """
    checked = check_uploads(category, uploads)
    backend = get_backend()
    assets: list[MediaAsset] = []
    try:
        for item in checked:
            assets.append(_store_one(backend, owner=owner, category=category, checked=item))
    except Exception:
        _remove_quietly(backend, assets)
        raise
    finally:
        for item in checked:
            item.upload.close()  # the re-encoded images' temporary files
    return assets


def _store_one(backend: StorageBackend, *, owner, category: str, checked: CheckedFile):
    rules = RULES[category]
    public_id = new_public_id(
        folder=settings.MEDIA_FOLDER, category=category, owner_id=str(owner.pk), checked=checked
    )
    stored = backend.save(checked.upload, public_id=public_id, resource_type=rules.resource_type,
                          extension=checked.extension, size=checked.size)  # fmt: skip
    try:
        asset = MediaAsset.objects.create(
            owner=owner, public_id=stored.public_id, category=category, backend=backend.name,
            resource_type=rules.resource_type, format=stored.format, content_type=checked.mime,
            original_name=checked.original_name, bytes=stored.bytes,
            width=stored.width if checked.width is None else checked.width,
            height=stored.height if checked.height is None else checked.height,
            duration=stored.duration, url=stored.url,
        )  # fmt: skip
    except Exception:
        _delete_stored_quietly(backend, stored.public_id, rules.resource_type, checked.extension)
        raise
    record_upload(category, stored.bytes)
    return asset


def _remove_quietly(backend: StorageBackend, assets: list[MediaAsset]) -> None:
    for asset in assets:
        if _delete_stored_quietly(backend, asset.public_id, asset.resource_type, asset.format):
            asset.delete()


def _delete_stored_quietly(backend, public_id: str, resource_type: str, extension: str) -> bool:
    try:
        backend.delete(public_id, resource_type=resource_type, extension=extension)
    except ApplicationError:
        logger.warning("Could not remove %s after a failed upload; its record stays", public_id)
        return False
    return True


def media_delete(*, user, public_id: str) -> None:
    """Remove from storage first, then the record: stopping half-way leaves a record whose next
    delete finds nothing in storage and completes."""
    asset = media_asset_get(user=user, public_id=public_id)
    get_backend().delete(asset.public_id, resource_type=asset.resource_type, extension=asset.format)
    asset.delete()


def media_delete_owned(*, owner) -> None:
    """Remove every file ``owner`` has from storage once the deletion of ``owner`` commits.

    Called as the owner is deleted; the rows go with the owner (``on_delete=CASCADE``, which
    Django's collector also runs on MongoDB). The files are removed after the commit, so a
    rolled-back deletion keeps them. A file storage refuses to remove is logged, not retried.
    """
    files = list(
        MediaAsset.objects.filter(owner=owner).values_list(
            "backend", "public_id", "resource_type", "format"
        )
    )
    if files:
        transaction.on_commit(lambda: _delete_files(files))


def _delete_files(files: list[tuple[str, str, str, str]]) -> None:
    backend = get_backend()
    for backend_name, public_id, resource_type, extension in files:
        if backend_name != backend.name:
            logger.warning("%s is on %s storage, not %s; left there", public_id, backend_name,
                           backend.name)  # fmt: skip
            continue
        _delete_stored_quietly(backend, public_id, resource_type, extension)
