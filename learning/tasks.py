"""Celery tasks of the learning app (found by autodiscovery): thin wrappers over services.

They run under the job machinery (``jobs.runner.job_task``): lock, JobRun row, retries. Their
names are those of ``jobs/registry.py``.
"""

from jobs.runner import JobContext, job_task
from learning import services


@job_task("cleanup_exam_histories")
def cleanup_exam_histories_task(run: JobContext, batch_size: int = services.JOB_BATCH_SIZE) -> int:
    """Delete exam histories older than EXAM_HISTORY_RETENTION_DAYS, ``batch_size`` at a time."""
    return services.exam_histories_delete_expired(batch_size=batch_size)


@job_task("update_streaks")
def update_streaks_task(run: JobContext) -> int:
    """Break the streaks of users inactive on their local yesterday: one bulk update."""
    return services.streaks_reset_broken()
