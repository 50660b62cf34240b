"""Celery tasks of the notifications app: thin wrappers around services."""

from celery import shared_task
from django.conf import settings

from notifications.services import notification_send_email


@shared_task(
    name="notifications.tasks.send_email_notification_task",
    acks_late=True,
    # smtplib.SMTPException, ConnectionError and socket timeouts are all OSError.
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=settings.NOTIFICATION_EMAIL_MAX_RETRIES,
)
def send_email_notification_task(notification_id: str) -> str:
    """Idempotent: a notification already sent (or being sent by another delivery) is skipped."""
    return notification_send_email(notification_id=notification_id)
