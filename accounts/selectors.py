from typing import Any

from django.core.exceptions import ValidationError
from rest_framework_simplejwt.settings import api_settings

from accounts.models import RevokedToken, User


def refresh_token_is_revoked(*, jti: str) -> bool:
    return RevokedToken.objects.filter(jti=jti).exists()


def user_token_version(*, user_id: Any) -> int | None:
    """The user's current token version; None for a deleted user or a malformed id."""
    if user_id is None:
        return None
    try:
        return (
            User.objects.filter(**{api_settings.USER_ID_FIELD: user_id})
            .values_list("token_version", flat=True)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None
