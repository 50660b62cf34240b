from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import RevokedToken, User, UserRole
from etrainer.api.errors import ApplicationError, ErrorCode


def user_create(
    *,
    email: str,
    password: str | None,
    role: str = UserRole.LEARNER,
    is_staff: bool = False,
    first_name: str = "",
    last_name: str = "",
    timezone: str = "UTC",
) -> User:
    user = User(
        email=User.objects.normalize_email(email),
        role=role,
        is_staff=is_staff,
        is_superuser=is_staff,
        first_name=first_name,
        last_name=last_name,
        timezone=timezone,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


def user_update_profile(*, user: User, data: dict) -> User:
    """Update the fields a user may change about themselves."""
    allowed = {"first_name", "last_name", "timezone", "language"}
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("These fields cannot be changed here."),
            details={"fields": {name: [_("Not allowed.")] for name in sorted(unknown)}},
        )
    for name, value in data.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=sorted(data))
    return user


def user_sessions_end(*, user: User) -> None:
    """Revoke every refresh token of the user and stop every access token issued so far, at once
    (``POST /api/auth/logout-all``): the tokens carry the old token version. Tokens issued after
    this carry the new one. Saved with ``save()``, so the cached user entry is invalidated.

    Two concurrent bumps may both write the same new version; either way every older token ends.
    """
    user.token_version += 1
    user.save(update_fields=["token_version"])


def user_deactivate(*, user: User) -> None:
    """Deactivate the account and end its sessions, so that reactivating it later does not bring
    old tokens back."""
    user.is_active = False
    user.token_version += 1
    user.save(update_fields=["is_active", "token_version"])


def refresh_token_revoke(*, token: RefreshToken) -> tuple[RevokedToken, bool]:
    """Put a refresh token on the deny-list; ``created`` is False when it already was there.

    ``get_or_create`` rides on the unique index on ``jti``: of two concurrent calls exactly one
    creates the row (on SQL and on MongoDB alike), so a refresh token rotates only once.
    """
    return RevokedToken.objects.get_or_create(
        jti=token.payload[api_settings.JTI_CLAIM],
        defaults={"expires_at": datetime_from_epoch(token.payload["exp"])},
    )


def auth_logout(*, refresh: str) -> None:
    """Revoke a refresh token (its signature and expiry checked). Logging out twice is harmless.

    Access tokens of this session stay valid until they expire (JWT_ACCESS_MINUTES); to stop
    those too, ``user_sessions_end`` ends every session of the user.
    """
    # simplejwt annotates the encoded token it decodes here as a Token (it takes the string).
    refresh_token_revoke(token=RefreshToken(refresh))  # type: ignore[arg-type]


def revoked_tokens_purge(*, now: datetime | None = None) -> int:
    """Drop deny-list entries of tokens that have expired anyway; returns how many."""
    deleted, _ = RevokedToken.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
