"""Delivering one email notification, at most once per successful send."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import REDACTED_BODY, Notification, NotificationChannel, is_private_kind
from notifications.selectors import claimable_emails

# How long one delivery holds an email before another delivery of the same task may take it over.
SEND_LEASE = timedelta(minutes=5)


class EmailOutcome:
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    IN_PROGRESS = "in_progress"
    MISSING = "missing"


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
    sent: dict[str, object] = {"sent_at": timezone.now(), "sending_until": None}
    if is_private_kind(notification.kind):
        sent["body"] = REDACTED_BODY
    Notification.objects.filter(pk=notification.pk, sent_at__isnull=True).update(**sent)
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
    """Plain text and HTML from templates; a kind may bring its own (``email/<kind>.txt``).

    Rendered in the recipient's language at send time (the title and body were written in it
    when the notice was created)."""
    context = {"notification": notification, "user": notification.user}
    with translation.override(notification.user.language):
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
