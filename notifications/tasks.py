"""Celery tasks of the notifications app: thin wrappers around services.

The scheduled reminder and report jobs run under the job machinery (``jobs.runner.job_task``);
what they send is decided in ``learning.services`` (it is about study activity).

The email send stays a plain task on purpose: it runs once per notification, many at a time. Under
``job_task`` its single per-job lock would record every email sent while another one is in flight
as ``skipped`` (dropped, not delayed), and each email would write a JobRun row. Its own claim on
the notification row already makes a re-delivery harmless.
"""

from celery import shared_task
from django.conf import settings

from jobs.runner import JobContext, job_task
from learning.services import JOB_BATCH_SIZE, daily_reminders_send, weekly_reports_generate
from notifications.services import notification_send_email, unsent_emails_requeue


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


@job_task("send_daily_notifications")
def send_daily_notifications_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Email today's reminder to active learners who have not studied today (their timezone)."""
    return daily_reminders_send(batch_size=batch_size, progress=run.add_items)


@job_task("generate_weekly_reports")
def generate_weekly_reports_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Store last week's report for every user who took an exam in it."""
    return weekly_reports_generate(batch_size=batch_size, progress=run.add_items)


@job_task("requeue_unsent_emails")
def requeue_unsent_emails_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Queue again the emails left unsent (broker outage, retries spent); fails if the broker
    refuses, recording how many were queued before."""
    return unsent_emails_requeue(batch_size=batch_size, progress=run.add_items)
