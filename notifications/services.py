"""Writes of the notifications app: store a notice once, mark it read, deliver its email once."""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import CeleryError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from kombu.exceptions import KombuError

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically
from notifications.models import Notification, NotificationChannel
from notifications.selectors import (
    claimable_emails,
    notification_existing_keys,
    notification_get,
    unsent_email_ids,
)

logger = logging.getLogger(__name__)

# How long one delivery holds an email before another delivery of the same task may take it over.
SEND_LEASE = timedelta(minutes=5)


class EmailOutcome:
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    IN_PROGRESS = "in_progress"
    MISSING = "missing"


@dataclass(frozen=True)
class NotifyResult:
    notification: Notification
    created: bool


def notify(
    *,
    user,
    kind: str,
    title: str,
    body: str = "",
    channel: str = NotificationChannel.IN_APP,
    dedupe_key: str | None = None,
    payload: dict | None = None,
) -> NotifyResult:
    """Store a notice once per ``dedupe_key`` and, for email, queue its delivery after commit.

    The unique index on ``dedupe_key`` is the arbiter: we insert first and treat IntegrityError as
    "already there", so two racing calls store one row on every engine (a read-then-write would
    let both pass the read). The insert and the queueing share one ``atomic`` block: on SQL its
    savepoint keeps an enclosing transaction usable after that error, and on MongoDB it is a
    transaction, so the email and the push go out only once the row is committed (inside a
    caller's transaction: once that commits). Only the call that stored the row queues the email,
    so a duplicate call never sends twice.
    """
    notification = Notification(
        user=user,
        kind=kind,
        channel=channel,
        title=title,
        body=body,
        payload=payload or {},
        dedupe_key=dedupe_key or f"{kind}:{user.pk}:{uuid.uuid4().hex}",
    )
    _validate(notification)
    from notifications.realtime import notification_publish  # WebSocket push after commit

    def insert_and_queue() -> None:
        notification.save(force_insert=True)
        _queue_emails([notification])
        notification_publish(notification=notification)

    try:
        atomically(insert_and_queue)
    except IntegrityError as exc:
        existing = Notification.objects.filter(dedupe_key=notification.dedupe_key).first()
        if existing is None:
            raise exc from None
        return NotifyResult(notification=existing, created=False)
    return NotifyResult(notification=notification, created=True)


def _validate(notification: Notification) -> None:
    try:
        notification.full_clean(exclude=["user"], validate_unique=False)
    except ValidationError as exc:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The notification is invalid.",
            details={"fields": exc.message_dict},
        ) from exc


def notification_queue_email(*, notification_id: str) -> bool:
    """Hand the email to Celery. A broker outage is logged, not raised: the row is committed and
    unsent (``sent_at`` null, indexed with ``channel``), so ``unsent_emails_requeue`` (the
    ``requeue_unsent_emails`` job) queues it again."""
    from notifications.tasks import send_email_notification_task

    try:
        send_email_notification_task.delay(notification_id)
    except (OSError, KombuError, CeleryError):
        logger.exception("Could not queue the email of notification %s", notification_id)
        return False
    return True


def unsent_emails_requeue(
    *,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Queue again the emails whose first queuing was lost; how many were queued.

    Lost: a broker outage when ``notify`` queued it (only logged), or a task that spent its
    retries while SMTP was down. Eligible: unsent, not leased by a running delivery, created
    between ``NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS`` and ``..._AFTER_SECONDS`` ago (younger
    ones may still be in the queue; older ones are stale news and are left unsent). Walked by
    primary key, one query per batch. A duplicate in the queue is harmless: the delivery claims
    the row, so an email queued twice is sent once.

    The first email the broker refuses stops the run (the others would fail the same way) with a
    503 ``ApplicationError``: the job is then recorded failed, with the count queued before it.
    With eager tasks (no broker) the send runs inline, and a send that fails counts as refused.
    """
    now = now or timezone.now()
    created_to = now - timedelta(seconds=settings.NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS)
    created_from = now - timedelta(hours=settings.NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS)
    queued, after_pk = 0, None
    while ids := unsent_email_ids(
        created_from=created_from,
        created_to=created_to,
        now=now,
        after_pk=after_pk,
        limit=batch_size,
    ):
        after_pk = ids[-1]
        in_batch = _queue_until_refused(ids)
        queued += in_batch
        if progress is not None:
            progress(in_batch)
        if in_batch < len(ids):
            raise _queue_refused(queued)
        if len(ids) < batch_size:
            break
    return queued


def _queue_refused(queued: int) -> ApplicationError:
    return ApplicationError(
        ErrorCode.SERVICE_UNAVAILABLE,
        f"The task queue refused an email after {queued} were queued; the rest wait for the "
        "next run.",
        status=503,
        details={"queued": queued},
    )


def _queue_until_refused(ids: list) -> int:
    for position, notification_id in enumerate(ids):
        if not notification_queue_email(notification_id=str(notification_id)):
            return position
    return len(ids)


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


def notification_send_email(*, notification_id: str) -> str:
    """Deliver an email notification at most once per successful send, whatever the redeliveries.

    A delivery first claims the row with a conditional update (unsent, and not held by another
    delivery's unexpired lease); only the claimant sends. After sending, ``sent_at`` is set and
    every later delivery finds it and does nothing. A failed send releases the claim before the
    error propagates, so the task's retry can claim it again.
    """
    now = timezone.now()
    if not _claim(notification_id, now):
        return _why_not_claimed(notification_id)
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        _email_message(notification).send()
    except Exception:
        Notification.objects.filter(pk=notification.pk).update(sending_until=None)
        raise
    Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), sending_until=None
    )
    return EmailOutcome.SENT


def _claim(notification_id: str, now: datetime) -> bool:
    try:
        claimed = (
            claimable_emails(now=now)
            .filter(pk=notification_id)
            .update(sending_until=now + SEND_LEASE)
        )
    except (ValueError, TypeError, ValidationError):
        return False
    return bool(claimed)


def _why_not_claimed(notification_id: str) -> str:
    try:
        notification = Notification.objects.filter(
            pk=notification_id, channel=NotificationChannel.EMAIL
        ).first()
    except (ValueError, TypeError, ValidationError):
        notification = None
    if notification is None:
        return EmailOutcome.MISSING
    return EmailOutcome.ALREADY_SENT if notification.sent_at else EmailOutcome.IN_PROGRESS


def _email_message(notification: Notification) -> EmailMultiAlternatives:
    """Plain text and HTML from templates; a kind may bring its own (``email/<kind>.txt``)."""
    context = {"notification": notification, "user": notification.user}
    text = render_to_string(_template_names(notification.kind, "txt"), context)
    html = render_to_string(_template_names(notification.kind, "html"), context)
    message = EmailMultiAlternatives(
        subject=" ".join(notification.title.splitlines()),
        body=text,
        to=[notification.user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def _template_names(kind: str, extension: str) -> list[str]:
    return [
        f"notifications/email/{kind}.{extension}",
        f"notifications/email/default.{extension}",
    ]


@dataclass(frozen=True)
class NotificationDraft:
    """A notice to store in bulk with ``notifications_create_many``; it needs a ``dedupe_key``."""

    user: object
    kind: str
    title: str
    dedupe_key: str
    body: str = ""
    channel: str = NotificationChannel.IN_APP
    payload: dict = field(default_factory=dict)


def notifications_create_many(*, drafts: list[NotificationDraft]) -> int:
    """Store the drafts whose ``dedupe_key`` is new and queue the emails among them; how many
    were stored. Two queries for the whole list: the existing keys, then one bulk insert.

    The pre-filter is only a shortcut; the unique index still decides. Should another writer
    store one of the keys in between, the bulk insert fails (``ignore_conflicts`` does not exist
    on MongoDB), its transaction stores none of the rows and queues no email, and the list is
    stored row by row through ``notify``, which treats the conflict as "already there". Emails
    and pushes are queued after the commit; delivery claims the row, so an email queued twice
    (the row-by-row path re-queues unsent ones) is sent once.
    """
    existing = notification_existing_keys(keys=[draft.dedupe_key for draft in drafts])
    fresh = {draft.dedupe_key: draft for draft in drafts if draft.dedupe_key not in existing}
    if not fresh:
        return 0
    notifications = [_notification_from(draft) for draft in fresh.values()]
    from notifications.realtime import notifications_publish  # WebSocket push after commit

    def insert_and_queue() -> None:
        Notification.objects.bulk_create(notifications)
        _queue_emails(notifications)
        notifications_publish(notifications=notifications)

    try:
        atomically(insert_and_queue)
    except IntegrityError:
        return _create_one_by_one(list(fresh.values()))
    return len(notifications)


def _notification_from(draft: NotificationDraft) -> Notification:
    notification = Notification(
        user=draft.user,
        kind=draft.kind,
        channel=draft.channel,
        title=draft.title,
        body=draft.body,
        payload=draft.payload,
        dedupe_key=draft.dedupe_key,
    )
    _validate(notification)
    return notification


def _queue_emails(notifications: list[Notification]) -> None:
    for notification in notifications:
        if notification.channel == NotificationChannel.EMAIL and notification.pk is not None:
            notification_id = str(notification.pk)
            transaction.on_commit(
                lambda notification_id=notification_id: notification_queue_email(
                    notification_id=notification_id
                )
            )


def _create_one_by_one(drafts: list[NotificationDraft]) -> int:
    results = [
        notify(
            user=draft.user,
            kind=draft.kind,
            title=draft.title,
            body=draft.body,
            channel=draft.channel,
            dedupe_key=draft.dedupe_key,
            payload=draft.payload,
        )
        for draft in drafts
    ]
    created_ids = {result.notification.pk for result in results if result.created}
    unqueued = Notification.objects.filter(
        dedupe_key__in=[draft.dedupe_key for draft in drafts],
        channel=NotificationChannel.EMAIL,
        sent_at__isnull=True,
    ).exclude(pk__in=created_ids)
    _queue_emails(list(unqueued))
    return len(created_ids)
