from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

DEDUPE_KEY_MAX_LENGTH = 200


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")


class NotificationKind(models.TextChoices):
    """Known kinds. The field stays free text so that other apps can add their own kinds."""

    DAILY_REMINDER = "daily_reminder", _("Daily reminder")
    WEEKLY_REPORT = "weekly_report", _("Weekly report")
    STREAK_MILESTONE = "streak_milestone", _("Streak milestone")
    SUBSCRIPTION_EXPIRED = "subscription_expired", _("Subscription expired")
    SYSTEM = "system", _("System")


# Kinds whose body carries a credential (a verification key, a password-reset link: the accounts
# app's emails). They are delivered by email only: never listed, fetched or pushed to a client,
# and their body is blanked once sent, so a stolen access token cannot read a live reset link.
PRIVATE_KIND_PREFIX = "account_"
REDACTED_BODY = "(Removed after sending: it held a one-time link.)"


def is_private_kind(kind: str) -> bool:
    return kind.startswith(PRIVATE_KIND_PREFIX)


class Notification(models.Model):
    """A notice to one user, stored once per ``dedupe_key`` (unique) and, for email, sent once.

    Key scheme: ``<kind>:<user id>:<period>``, e.g. ``daily-reminder:42:2026-11-23``; callers with
    nothing to deduplicate get a random key from ``notify``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(max_length=64, verbose_name=_("kind"))
    channel = models.CharField(
        max_length=16,
        choices=NotificationChannel.choices,
        default=NotificationChannel.IN_APP,
        verbose_name=_("channel"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    dedupe_key = models.CharField(
        max_length=DEDUPE_KEY_MAX_LENGTH, unique=True, verbose_name=_("dedupe key")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    # A sender holds the email until then; another delivery of the same task waits it out.
    sending_until = models.DateTimeField(null=True, blank=True, verbose_name=_("sending until"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # "my notifications" (newest first) and the unread filter
            models.Index(fields=["user", "created_at"], name="notif_user_created_idx"),
            models.Index(fields=["user", "read_at"], name="notif_user_read_idx"),
            # jobs: reports/reminders by kind and period; unsent emails to re-queue
            models.Index(fields=["kind", "created_at"], name="notif_kind_created_idx"),
            models.Index(fields=["channel", "sent_at"], name="notif_channel_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}: {self.title}"
