"""Reads: one asset for its owner or staff, its live info, optimized URLs, storage usage/status."""

from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from media.models import MediaAsset
from media.storage import get_backend, optimized_url
from media.validation import is_valid_public_id


def _not_found() -> ApplicationError:
    return ApplicationError(ErrorCode.NOT_FOUND, _("Not found."), status=404)


def media_asset_get(*, user, public_id: str) -> MediaAsset:
    """The asset if ``user`` owns it or is staff; anyone else gets the same 404 as for a missing
    id, so ids cannot be probed."""
    if not is_valid_public_id(public_id):
        raise _not_found()
    assets = MediaAsset.objects.filter(public_id=public_id)
    if not user.is_staff:
        assets = assets.filter(owner=user)
    asset = assets.first()
    if asset is None:
        raise _not_found()
    return asset


def media_info(*, user, public_id: str) -> dict[str, Any]:
    """Our record, refreshed with what storage says about the file now."""
    asset = media_asset_get(user=user, public_id=public_id)
    live = get_backend().info(
        asset.public_id, resource_type=asset.resource_type, extension=asset.format
    )
    return {"asset": asset, "storage": live}


def media_optimized_url(*, user, public_id: str, resource_type: str, **transformation: Any) -> dict:
    """A delivery URL for an asset ``user`` owns (or any, for staff); the same 404 as info and
    delete otherwise. Cloudinary: a transformation URL built by the SDK (no network call). The
    local backend cannot transform, so it answers the stored file's plain URL."""
    asset = media_asset_get(user=user, public_id=public_id)
    if get_backend().name == "cloudinary":
        url = optimized_url(asset.public_id, resource_type=resource_type, **transformation)
        return {"url": url, "transformed": True}
    return {"url": asset.url, "transformed": False}


def storage_usage() -> dict:
    """Usage for the monitoring endpoint: Cloudinary's account figures, or local disk figures;
    with our own record totals either way. Raises a 503 ApplicationError when storage is down."""
    backend = get_backend()
    figures = backend.usage()
    totals = MediaAsset.objects.aggregate(assets=Count("id"), bytes=Sum("bytes"))
    return {
        "backend": backend.name,
        **figures,
        "recorded": {"assets": totals["assets"], "bytes": totals["bytes"] or 0},
    }


def storage_status() -> tuple[bool, str]:
    """Is media storage reachable? Cheap (a cached ping at most), never raises, respects the
    breaker."""
    try:
        return get_backend().status()
    except Exception as error:  # a health check must answer whatever happens
        return False, f"{type(error).__name__}: {error}"
