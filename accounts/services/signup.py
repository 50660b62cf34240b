"""Sign-up through the API: an inactive account, a verification email, activation by its key.

Nothing here tells a caller whether an address is registered: a sign-up with a taken address
answers as a new one would (the owner of the address gets an email instead), and resending a
verification says nothing either. The verification key is signed (``django.core.signing``) and
names the user and the address; it works once: only while ``email_verified_at`` is null.
"""

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.emails import AccountEmailKind, account_email_send, frontend_link
from accounts.models import User, default_user_language
from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically

VERIFY_EMAIL_SALT = "accounts.verify-email"


def validation_error(exc: ValidationError, message: str = "The request is invalid."):
    return ApplicationError(
        ErrorCode.VALIDATION_ERROR, message, details={"fields": exc.message_dict}
    )


def password_validate(*, password: str, user: User, field: str = "password") -> None:
    """Django's ``AUTH_PASSWORD_VALIDATORS``, as a field error of the envelope."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The password is too weak."),
            details={"fields": {field: list(exc.messages)}},
        ) from exc


def user_register(
    *, email: str, password: str, timezone: str = "UTC", language: str | None = None
) -> None:
    """Create an inactive account and email its verification key; a taken address emails its
    owner instead. Either way the caller learns nothing. The password is hashed before the insert
    finds the address taken, so both branches pay the slow step (the email itself is queued)."""
    user = User(
        email=User.objects.normalize_email(email),
        timezone=timezone,
        language=language or default_user_language(),
        is_active=False,
        email_verified_at=None,
    )
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        raise validation_error(exc) from exc
    password_validate(password=password, user=user)
    user.set_password(password)

    def insert_and_email() -> None:
        user.save(force_insert=True)
        _verification_email_send(user)

    try:
        atomically(insert_and_email)
    except IntegrityError:
        _registration_repeated(email=user.email)


def _registration_repeated(*, email: str) -> None:
    existing = User.objects.filter(email=email).first()
    if existing is None:  # deleted in between: nothing to tell anyone
        return
    if existing.email_verified_at is None:
        _verification_email_send(existing)
        return
    with translation.override(existing.language):  # the email is stored, then sent, as written
        account_email_send(
            user=existing,
            kind=AccountEmailKind.ACCOUNT_EXISTS,
            subject=_("Someone tried to sign up with your email address"),
            body=_(
                "You already have an ETrainer account. If this was you, log in, or reset your "
                "password here:"
            ),
            link=frontend_link(settings.FRONTEND_PASSWORD_RESET_PATH),
        )


def verification_key_make(*, user: User) -> str:
    return signing.dumps({"user": str(user.pk), "email": user.email}, salt=VERIFY_EMAIL_SALT)


def _verification_email_send(user: User) -> None:
    key = verification_key_make(user=user)
    with translation.override(user.language):
        account_email_send(
            user=user,
            kind=AccountEmailKind.VERIFY_EMAIL,
            subject=_("Confirm your email address"),
            body=_(
                "Welcome to ETrainer. Open this link to confirm your address and activate your "
                "account:"
            ),
            link=frontend_link(settings.FRONTEND_VERIFY_EMAIL_PATH, key=key),
        )


def verification_email_resend(*, email: str) -> None:
    """Send the key again to an account still awaiting verification; silently nothing else."""
    user = User.objects.filter(
        email=User.objects.normalize_email(email), email_verified_at__isnull=True
    ).first()
    if user is not None:
        _verification_email_send(user)


def email_verify(*, key: str) -> User:
    """Activate the account the key names, once. An expired, forged or used key is a 400."""
    invalid = ApplicationError(
        ErrorCode.VALIDATION_ERROR,
        _("The verification key is invalid or has expired."),
        details={"fields": {"key": [_("Invalid or expired.")]}},
    )
    try:
        claims = signing.loads(
            key, salt=VERIFY_EMAIL_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT
        )
    except signing.BadSignature as exc:
        raise invalid from exc
    user = User.objects.filter(
        pk=claims.get("user"), email=claims.get("email"), email_verified_at__isnull=True
    ).first()
    if user is None:
        raise invalid
    user.is_active = True
    user.email_verified_at = timezone.now()
    user.save(update_fields=["is_active", "email_verified_at"])
    return user
