"""Erasing a person: ``DELETE /api/me``."""

from django.utils.translation import gettext as _

from accounts.models import LoginFailure, User
from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomic


def user_erase(*, user: User, password: str) -> None:
    """Delete the user and, all-or-nothing, everything that cascades from the row: histories,
    streak, notifications, subscriptions, token account, media rows (their files in storage are
    deleted after the commit by media's receiver); payment records keep their rows with the user
    set to null. Failed-login rows carry the address as typed, so they go too."""
    if not user.check_password(password):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The password is wrong."),
            details={"fields": {"password": [_("Wrong password.")]}},
        )
    with atomic():
        LoginFailure.objects.filter(login=user.email).delete()
        user.delete()
