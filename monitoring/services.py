"""Operator actions on the access cache; keys are spelled only in subscriptions.cache."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from subscriptions.cache import KEY_FAMILIES, invalidate_family, invalidate_user


def cache_invalidate_user(*, user: str) -> int:
    """Delete one user's cached entries; ``user`` is an id or an email. Returns keys removed."""
    user = user.strip()
    if not user:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, _("Give a user id or email."), status=400
        )
    user_id = _user_id_for_email(user) if "@" in user else user
    return invalidate_user(user_id)


def _user_id_for_email(email: str) -> str:
    user_id = (
        get_user_model().objects.filter(email__iexact=email).values_list("pk", flat=True).first()
    )
    if user_id is None:
        raise ApplicationError(
            ErrorCode.NOT_FOUND, _("No user with email %(email)s.") % {"email": email}, status=404
        )
    return str(user_id)


def cache_invalidate_family(*, family: str) -> None:
    """Invalidate every user's entries of one family (a version bump, not a key scan)."""
    if family not in KEY_FAMILIES:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("Unknown cache family %(family)r.") % {"family": family},
            status=400,
        )
    invalidate_family(family)
