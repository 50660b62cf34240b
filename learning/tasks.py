"""Celery tasks of the learning app (found by autodiscovery): thin wrappers over services.

They run under the job machinery (``jobs.runner.job_task``): lock, JobRun row, retries. Their
Celery names are those of ``jobs/registry.py``; the reminder and report jobs keep the
``notifications.tasks.*`` names they were first written under, so beat entries and queued
messages still route to them.

The three local-time jobs run hourly and take an optional ``as_of`` (ISO 8601 with an offset):
the instant to run as, to replay hours missed for longer than the catch-up window (dedupe keys and
idempotent updates make a replay of an hour already done change nothing).
"""

from datetime import datetime

from jobs.runner import JobContext, job_task
from learning.services.exams import exam_histories_delete_expired
from learning.services.notices import JOB_BATCH_SIZE, daily_reminders_send, weekly_reports_generate
from learning.services.streaks import streaks_reset_broken


def _instant(as_of: str | None) -> datetime | None:
    if as_of is None:
        return None
    moment = datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        raise ValueError(f"as_of needs a UTC offset: {as_of!r}")
    return moment


@job_task("cleanup_exam_histories")
def cleanup_exam_histories_task(run: JobContext, batch_size: int = JOB_BATCH_SIZE) -> int:
    """Delete exam histories older than EXAM_HISTORY_RETENTION_DAYS, ``batch_size`` at a time."""
    return exam_histories_delete_expired(batch_size=batch_size)


@job_task("update_streaks")
def update_streaks_task(run: JobContext, as_of: str | None = None) -> int:
    """Break the streaks of users whose local day just began and who were idle on the day before."""
    return streaks_reset_broken(now=_instant(as_of))


@job_task("send_daily_notifications")
def send_daily_notifications_task(
    run: JobContext, batch_size: int = JOB_BATCH_SIZE, as_of: str | None = None
) -> int:
    """Email the 09:00-local reminder to the learners of the zones at 09:xx who have not studied."""
    return daily_reminders_send(now=_instant(as_of), batch_size=batch_size, progress=run.add_items)


@job_task("generate_weekly_reports")
def generate_weekly_reports_task(
    run: JobContext, batch_size: int = JOB_BATCH_SIZE, as_of: str | None = None
) -> int:
    """Store last local week's report for the users at local Monday 08:xx who took an exam in it."""
    return weekly_reports_generate(
        now=_instant(as_of), batch_size=batch_size, progress=run.add_items
    )
