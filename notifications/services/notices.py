"""Storing notices: once per dedupe key, one at a time or in bulk, with their email and push."""

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from accounts.models import User
from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically
from notifications.models import Notification, NotificationChannel
from notifications.realtime import notification_publish, notifications_publish
from notifications.selectors import notification_existing_keys
from notifications.services.email_queue import notification_emails_queue_on_commit


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

    def insert_and_queue() -> None:
        notification.save(force_insert=True)
        notification_emails_queue_on_commit(notifications=[notification])
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
            _("The notification is invalid."),
            details={"fields": exc.message_dict},
        ) from exc


@dataclass(frozen=True)
class NotificationDraft:
    """A notice to store in bulk with ``notifications_create_many``; it needs a ``dedupe_key``."""

    user: User
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

    def insert_and_queue() -> None:
        Notification.objects.bulk_create(notifications)
        notification_emails_queue_on_commit(notifications=notifications)
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
    notification_emails_queue_on_commit(notifications=list(unqueued))
    return len(created_ids)
