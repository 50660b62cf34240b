"""Reads of the notifications app."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from etrainer.api.errors import ApplicationError, ErrorCode
from notifications.models import Notification


def notification_list(
    *, user, unread: bool | None = None, channel: str | None = None
) -> QuerySet[Notification]:
    """The user's notifications; the caller orders (cursor pagination on ``-created_at``)."""
    notifications = Notification.objects.filter(user=user)
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    if channel:
        notifications = notifications.filter(channel=channel)
    return notifications


def notification_get(*, user, notification_id: str) -> Notification:
    """One of the user's notifications; someone else's, or a malformed id, is not found."""
    try:
        return Notification.objects.get(pk=notification_id, user=user)
    except (Notification.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ApplicationError(ErrorCode.NOT_FOUND, "Notification not found.", status=404) from None


def notification_existing_keys(*, keys: list[str]) -> set[str]:
    """Which of ``keys`` are already stored, in one query on the unique ``dedupe_key`` index."""
    if not keys:
        return set()
    return set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
