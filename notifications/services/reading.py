"""Marking notifications read."""

from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import Notification
from notifications.selectors import notification_get


def notification_mark_read(*, user, notification_id: str) -> Notification:
    """Idempotent: the first read time is kept."""
    notification = notification_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    return notifications_mark_read(notifications=Notification.objects.filter(user=user))


def notifications_mark_read(*, notifications: QuerySet[Notification]) -> int:
    """Mark the unread ones among ``notifications`` read, in one update."""
    return notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
