"""Celery tasks of the notifications app (found by autodiscovery): thin wrappers around services.

The email delivery task is defined in ``notifications.email_tasks`` and re-exported here. The
daily reminder and weekly report jobs decide what to send from study activity, so they live in
``learning.tasks`` (under their original task names).
"""

from jobs.runner import JobContext, job_task
from notifications.email_tasks import send_email_notification_task
from notifications.services.email_queue import unsent_emails_requeue

__all__ = ["requeue_unsent_emails_task", "send_email_notification_task"]

# Emails re-queued per round trip of the job (bounded memory, queries ~ N / batch).
REQUEUE_BATCH_SIZE = 500


@job_task("requeue_unsent_emails")
def requeue_unsent_emails_task(run: JobContext, batch_size: int = REQUEUE_BATCH_SIZE) -> int:
    """Queue again the emails left unsent (broker outage, retries spent); fails if the broker
    refuses, recording how many were queued before."""
    return unsent_emails_requeue(batch_size=batch_size, progress=run.add_items)
