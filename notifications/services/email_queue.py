"""Handing email notifications to Celery: after a commit, and again when the first queuing was lost.

The Celery task lives in ``notifications.email_tasks``, which imports only the delivery service
(``notifications.services.emails``), so the queueing here and the task form no import cycle.
The task is read off the module at call time: this module may be imported while that one is
still being initialised (a worker importing the task first).
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import CeleryError
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext
from kombu.exceptions import KombuError

from etrainer.api.errors import ApplicationError, ErrorCode
from notifications import email_tasks
from notifications.models import Notification, NotificationChannel
from notifications.selectors import claimable_emails, unsent_email_ids

logger = logging.getLogger(__name__)


def notification_queue_email(*, notification_id: str) -> bool:
    """Hand the email to Celery. A broker outage is logged, not raised: the row is committed and
    unsent (``sent_at`` null, indexed with ``channel``), so ``unsent_emails_requeue`` (the
    ``requeue_unsent_emails`` job) queues it again."""
    try:
        email_tasks.send_email_notification_task.delay(notification_id)
    except (OSError, KombuError, CeleryError):
        logger.exception("Could not queue the email of notification %s", notification_id)
        return False
    return True


@dataclass(frozen=True)
class EmailsQueued:
    queued: int
    claimable: int
    selected: int


def notification_emails_queue(*, notification_ids: list) -> EmailsQueued:
    """Queue the emails among ``notification_ids`` that a delivery may claim now (unsent, with no
    unexpired lease: ``claimable_emails``); one being sent, or already sent, is left alone."""
    ids = list(
        claimable_emails(now=timezone.now())
        .filter(pk__in=notification_ids)
        .values_list("pk", flat=True)
    )
    queued = sum(notification_queue_email(notification_id=str(pk)) for pk in ids)
    return EmailsQueued(queued=queued, claimable=len(ids), selected=len(notification_ids))


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
        ngettext(
            "The task queue refused an email after %(queued)d was queued; the rest wait for the "
            "next run.",
            "The task queue refused an email after %(queued)d were queued; the rest wait for the "
            "next run.",
            queued,
        )
        % {"queued": queued},
        status=503,
        details={"queued": queued},
    )


def _queue_until_refused(ids: list) -> int:
    for position, notification_id in enumerate(ids):
        if not notification_queue_email(notification_id=str(notification_id)):
            return position
    return len(ids)


def notification_emails_queue_on_commit(*, notifications: list[Notification]) -> None:
    """Queue the email of each stored email notice once the surrounding transaction commits."""
    for notification in notifications:
        if notification.channel == NotificationChannel.EMAIL and notification.pk is not None:
            transaction.on_commit(
                functools.partial(notification_queue_email, notification_id=str(notification.pk))
            )
