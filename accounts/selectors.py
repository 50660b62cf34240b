import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings

from accounts.models import RevokedToken, User
from accounts.signals import user_data_export


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


def user_export(*, user: User) -> dict:
    """All of the person's data: the profile, then each app's sections (``user_data_export``).

    Sections come back as rows of plain values; ids and values JSON has no type for (ObjectIds)
    are turned into strings, dates into ISO 8601.
    """
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "user": {
            "id": str(user.pk),
            **{name: getattr(user, name) for name in EXPORTED_USER_FIELDS},
        },
    }
    for _receiver, section in user_data_export.send(sender=User, user=user):
        # django-stubs types receivers' replies as str; these receivers return dicts.
        data.update(section or {})  # type: ignore[arg-type]
    return _ids_as_strings(json.loads(json.dumps(data, cls=ExportEncoder)))


def _ids_as_strings(value):
    """Ids are strings in the API on every engine (integers on SQL, ObjectIds on MongoDB)."""
    if isinstance(value, list):
        return [_ids_as_strings(item) for item in value]
    if isinstance(value, dict):
        return {
            key: str(item) if key == "id" and item is not None else _ids_as_strings(item)
            for key, item in value.items()
        }
    return value


EXPORTED_USER_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "role",
    "timezone",
    "language",
    "is_active",
    "date_joined",
    "last_login",
    "email_verified_at",
)


class ExportEncoder(DjangoJSONEncoder):
    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)
