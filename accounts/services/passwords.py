"""Password reset by an emailed link and password change; both end every session of the user.

The reset link carries Django's ``default_token_generator`` token: it expires after
``PASSWORD_RESET_TIMEOUT`` and works once, since its hash covers the password hash and the last
login, which the reset changes. ``User.set_password`` bumps ``token_version``, so every refresh
and access token issued before the change is refused afterwards.
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.emails import AccountEmailKind, account_email_send, frontend_link
from accounts.models import User
from accounts.services.signup import password_validate
from etrainer.api.errors import ApplicationError, ErrorCode


def password_reset_request(*, email: str) -> None:
    """Email a reset link to an active account with that address; nothing otherwise (the caller
    is answered the same either way)."""
    user = User.objects.filter(email=User.objects.normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    uid = urlsafe_base64_encode(force_bytes(str(user.pk)))
    token = default_token_generator.make_token(user)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    with translation.override(user.language):  # the email is stored, then sent, as written
        account_email_send(
            user=user,
            kind=AccountEmailKind.PASSWORD_RESET,
            subject=_("Reset your ETrainer password"),
            body=ngettext(
                "Open this link within %(minutes)d minute to choose a new password. If you did "
                "not ask for it, ignore this email.",
                "Open this link within %(minutes)d minutes to choose a new password. If you did "
                "not ask for it, ignore this email.",
                minutes,
            )
            % {"minutes": minutes},
            link=frontend_link(settings.FRONTEND_PASSWORD_RESET_PATH, uid=uid, token=token),
        )


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    user = _user_from_uid(uid)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The reset link is invalid, used or expired."),
            details={"fields": {"token": [_("Invalid, used or expired.")]}},
        )
    return _password_set(user=user, new_password=new_password)


def password_change(*, user: User, current_password: str, new_password: str) -> User:
    if not user.check_password(current_password):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The current password is wrong."),
            details={"fields": {"current_password": [_("Wrong password.")]}},
        )
    return _password_set(user=user, new_password=new_password)


def _password_set(*, user: User, new_password: str) -> User:
    password_validate(password=new_password, user=user, field="new_password")
    user.set_password(new_password)  # bumps token_version: every session ends
    user.save(update_fields=["password", "token_version"])
    with translation.override(user.language):
        account_email_send(
            user=user,
            kind=AccountEmailKind.PASSWORD_CHANGED,
            subject=_("Your ETrainer password was changed"),
            body=_(
                "Your password was changed and every session was logged out. If this was not "
                "you, reset your password at once:"
            ),
            link=frontend_link(settings.FRONTEND_PASSWORD_RESET_PATH),
        )
    return user


def _user_from_uid(uid: str) -> User | None:
    """None for a uid that is not base64 or names no id this engine can read."""
    try:
        return User.objects.filter(pk=force_str(urlsafe_base64_decode(uid))).first()
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, ValidationError):
        return None
