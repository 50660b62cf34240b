"""Reads of the notifications app."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from notifications.models import PRIVATE_KIND_PREFIX, Notification, NotificationChannel


def notification_list(
    *, user, unread: bool | None = None, channel: str | None = None
) -> QuerySet[Notification]:
    """The user's notifications; the caller orders (cursor pagination on ``-created_at``)."""
    notifications = Notification.objects.filter(user=user).exclude(
        kind__startswith=PRIVATE_KIND_PREFIX
    )
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    if channel:
        notifications = notifications.filter(channel=channel)
    return notifications


def notification_get(*, user, notification_id: str) -> Notification:
    """One of the user's notifications; someone else's, or a malformed id, is not found."""
    try:
        return Notification.objects.exclude(kind__startswith=PRIVATE_KIND_PREFIX).get(
            pk=notification_id, user=user
        )
    except (Notification.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ApplicationError(
            ErrorCode.NOT_FOUND, _("Notification not found."), status=404
        ) from None


def notification_existing_keys(*, keys: list[str]) -> set[str]:
    """Which of ``keys`` are already stored, in one query on the unique ``dedupe_key`` index."""
    if not keys:
        return set()
    return set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )


def claimable_emails(*, now: datetime) -> QuerySet[Notification]:
    """Email notifications still unsent and not held by a delivery's unexpired lease: the rows a
    delivery may claim (``notification_send_email``) and the sweep may queue again."""
    return Notification.objects.filter(
        channel=NotificationChannel.EMAIL, sent_at__isnull=True
    ).filter(Q(sending_until__isnull=True) | Q(sending_until__lt=now))


def unsent_email_ids(
    *, created_from: datetime, created_to: datetime, now: datetime, after_pk=None, limit: int
) -> list:
    """Up to ``limit`` ids of claimable emails created in [created_from, created_to], in
    primary-key order (a row a delivery is sending right now is left to it).

    Keyset pagination: pass the last id seen as ``after_pk`` for the next batch. The filter starts
    on the ``(channel, sent_at)`` index.
    """
    emails = claimable_emails(now=now).filter(
        created_at__gte=created_from, created_at__lte=created_to
    )
    if after_pk is not None:
        emails = emails.filter(pk__gt=after_pk)
    return list(emails.order_by("pk").values_list("pk", flat=True)[:limit])
