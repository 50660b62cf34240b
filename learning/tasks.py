"""Celery tasks of the learning app (found by autodiscovery): thin wrappers over services.

They run under the job machinery (``jobs.runner.job_task``): lock, JobRun row, retries. Their
Celery names are those of ``jobs/registry.py``; the reminder and report jobs keep the
``notifications.tasks.*`` names they were first written under, so beat entries and queued
messages still route to them.
"""

from jobs.runner import JobContext, job_task
from learning.services.exams import exam_histories_delete_expired
from learning.services.notices import JOB_BATCH_SIZE, daily_reminders_send, weekly_reports_generate
from learning.services.streaks import streaks_reset_broken


@job_task("cleanup_exam_histories")
def cleanup_exam_histories_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Delete exam histories older than EXAM_HISTORY_RETENTION_DAYS, ``batch_size`` at a time."""
    return exam_histories_delete_expired(batch_size=batch_size)


@job_task("update_streaks")
def update_streaks_task(run: JobContext) -> int:
    """Break the streaks of users inactive on their local yesterday: one bulk update."""
    return streaks_reset_broken()


@job_task("send_daily_notifications")
def send_daily_notifications_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Email today's reminder to active learners who have not studied today (their timezone)."""
    return daily_reminders_send(batch_size=batch_size, progress=run.add_items)


@job_task("generate_weekly_reports")
def generate_weekly_reports_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Store last week's report for every user who took an exam in it."""
    return weekly_reports_generate(batch_size=batch_size, progress=run.add_items)
