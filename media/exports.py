"""The media section of a person's data export (``accounts.signals.user_data_export``)."""

from django.dispatch import receiver

from accounts.signals import user_data_export
from media.models import MediaAsset


@receiver(user_data_export, dispatch_uid="media-export")
def export_media(sender, user, **kwargs) -> dict:
    assets = MediaAsset.objects.filter(owner=user).order_by("created_at", "pk")
    return {
        "media": list(
            assets.values(
                "id",
                "public_id",
                "category",
                "format",
                "content_type",
                "original_name",
                "bytes",
                "width",
                "height",
                "duration",
                "url",
                "created_at",
            )
        )
    }
