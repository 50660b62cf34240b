from django.conf import settings
from django.db import models

DEDUPE_KEY_MAX_LENGTH = 200


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", "In-app"
    EMAIL = "email", "Email"


class NotificationKind(models.TextChoices):
    """Known kinds. The field stays free text so that other apps can add their own kinds."""

    DAILY_REMINDER = "daily_reminder", "Daily reminder"
    WEEKLY_REPORT = "weekly_report", "Weekly report"
    STREAK_MILESTONE = "streak_milestone", "Streak milestone"
    SUBSCRIPTION_EXPIRED = "subscription_expired", "Subscription expired"
    SYSTEM = "system", "System"


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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    channel = models.CharField(
        max_length=16, choices=NotificationChannel.choices, default=NotificationChannel.IN_APP
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=DEDUPE_KEY_MAX_LENGTH, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # A sender holds the email until then; another delivery of the same task waits it out.
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta:
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
