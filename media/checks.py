"""Start-up checks: a Cloudinary backend without credentials would fail on the first upload."""

from django.conf import settings
from django.core.checks import Error, register

from media.storage import cloudinary_credentials

BACKENDS = ("local", "cloudinary")


@register()
def media_backend_configured(app_configs, **kwargs) -> list[Error]:
    if settings.MEDIA_BACKEND not in BACKENDS:
        return [Error(f"MEDIA_BACKEND must be one of {BACKENDS}.", id="media.E001")]
    if settings.MEDIA_BACKEND == "cloudinary" and not all(cloudinary_credentials().values()):
        return [
            Error(
                "MEDIA_BACKEND is cloudinary but the credentials are incomplete.",
                hint="Set CLOUDINARY_URL, or CLOUDINARY_CLOUD_NAME/API_KEY/API_SECRET.",
                id="media.E002",
            )
        ]
    return []
