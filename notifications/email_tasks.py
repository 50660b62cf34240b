"""The Celery task that delivers one email notification (re-exported by ``notifications.tasks``).

Its own module, importing only the delivery service, so that the services which queue it
(``notifications.services.email_queue``) import it without an import cycle through the jobs in
``notifications.tasks``.

It stays a plain task on purpose: it runs once per notification, many at a time. Under
``job_task`` its single per-job lock would record every email sent while another one is in flight
as ``skipped`` (dropped, not delayed), and each email would write a JobRun row. Its own claim on
the notification row already makes a re-delivery harmless.
"""

from celery import shared_task
from django.conf import settings

from notifications.services.emails import notification_send_email


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
