import zoneinfo

from django.conf import settings
from django.contrib.auth.hashers import acheck_password, check_password, make_password
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class UserRole(models.TextChoices):
    LEARNER = "learner", _("Learner")
    INSTRUCTOR = "instructor", _("Instructor")
    STAFF = "staff", _("Staff")


class UserLanguage(models.TextChoices):
    VIETNAMESE = "vi", "Tiếng Việt"  # each language by its own name
    ENGLISH = "en", "English"


def default_user_language() -> str:
    """``DEFAULT_USER_LANGUAGE`` at the time the user is created (a callable, so that changing the
    environment needs no migration)."""
    return settings.DEFAULT_USER_LANGUAGE


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA time zone."), params={"value": value}
        )


class UserManager(BaseUserManager):
    """Email is the login. It is stored lower-cased, so a plain unique index makes it unique
    case-insensitively on every engine (an index on Lower(email) would not exist on MongoDB)."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def get_by_natural_key(self, email):
        return self.get(email=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", UserRole.STAFF)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)
    role = models.CharField(
        max_length=16, choices=UserRole.choices, default=UserRole.LEARNER, verbose_name=_("role")
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], verbose_name=_("timezone")
    )
    language = models.CharField(
        max_length=8,
        choices=UserLanguage.choices,
        default=default_user_language,
        verbose_name=_("language"),
    )
    # Null only for an account signed up through the API whose email is not verified yet; every
    # other way in (admin, createsuperuser, the demo accounts, existing rows) counts as verified.
    # Deactivating a verified account keeps it set, so an old verification key cannot reopen it.
    email_verified_at = models.DateTimeField(
        null=True, blank=True, default=now, verbose_name=_("email verified at")
    )
    # Carried in every JWT (etrainer.api.authentication.TOKEN_VERSION_CLAIM); bumping it ends every
    # session of the user at once: refresh tokens stop rotating, access tokens stop authenticating.
    token_version = models.PositiveIntegerField(
        default=0, editable=False, verbose_name=_("token version")
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [
            models.Index(fields=["role"], name="accounts_user_role_idx"),
            # the local-time jobs: users of the zones at a local hour, keyset-paginated by pk
            models.Index(fields=["timezone", "id"], name="accounts_user_tz_idx"),
        ]

    def __str__(self) -> str:
        return self.email

    def set_password(self, raw_password):
        """A new password ends every session (DESIGN.md §12), whatever door it came through: the
        API, the admin's password form, ``manage.py changepassword``. Saved with the password."""
        super().set_password(raw_password)
        if self.pk is not None:
            self.token_version += 1

    def check_password(self, raw_password):
        """Django's, except that a hash upgrade (a new hasher or iteration count) stores the new
        hash without calling ``set_password``: it is not a password change."""

        def upgrade(raw):
            self.password = make_password(raw)
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, upgrade)

    async def acheck_password(self, raw_password):
        async def upgrade(raw):
            self.password = make_password(raw)
            await self.asave(update_fields=["password"])

        return await acheck_password(raw_password, self.password, upgrade)


class RevokedToken(models.Model):
    """A refresh token that may no longer be used: rotated away or logged out.

    A deny-list of token ids (``jti``), kept until the token would have expired anyway. simplejwt's
    own token_blacklist app cannot be used here: its models declare ``BigAutoField`` primary keys,
    which django-mongodb-backend refuses (mongodb.E001). The unique index on ``jti`` is what makes a
    refresh token single-use under concurrency: of two rotations racing, only one inserts the row.
    """

    jti = models.CharField(max_length=64, unique=True, verbose_name=_("jti"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    revoked_at = models.DateTimeField(auto_now_add=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("revoked token")
        verbose_name_plural = _("revoked tokens")
        indexes = [models.Index(fields=["expires_at"], name="accounts_revoked_expires_idx")]

    def __str__(self) -> str:
        return self.jti


class LoginFailure(models.Model):
    """One failed login: which login was tried, from which address, when.

    Failed logins are counted from these rows rather than from cache counters, so the lockout and
    the per-address ceiling hold while Redis is down (a cache counter that cannot be read would
    either lock everyone out or let guessing run unlimited). ``login`` is the normalised login as
    typed, whether or not such a user exists, so a probe learns nothing from the answers.
    """

    login = models.CharField(max_length=254, verbose_name=_("login"))
    address = models.CharField(
        max_length=45, verbose_name=_("address")
    )  # an IPv6 address in text is at most 45 characters
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("login failure")
        verbose_name_plural = _("login failures")
        indexes = [
            models.Index(fields=["login", "created_at"], name="accounts_loginfail_login_idx"),
            models.Index(fields=["address", "created_at"], name="accounts_loginfail_addr_idx"),
            models.Index(fields=["created_at"], name="accounts_loginfail_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.login} from {self.address}"
