"""Celery tasks of the subscriptions app (found by autodiscovery): thin wrappers over services.

They run under the job machinery (``jobs.runner.job_task``): lock, JobRun row, retries. Their
names are those of ``jobs/registry.py``.
"""

from jobs.runner import JobContext, job_task
from subscriptions import services


@job_task("expire_subscriptions")
def expire_subscriptions_task(run: JobContext, batch_size: int = services.JOB_BATCH_SIZE) -> int:
    """Expire the live subscriptions past their end; notify their users; drop their cache keys."""
    return services.subscriptions_expire_due(batch_size=batch_size, progress=run.add_items)


@job_task("reset_ai_tokens")
def reset_ai_tokens_task(run: JobContext, batch_size: int = services.JOB_BATCH_SIZE) -> int:
    """Start the current month's AI-token period for every account still in an older one."""
    return services.ai_tokens_reset_due(batch_size=batch_size, progress=run.add_items)


@job_task("notify_expiring_subscriptions")
def notify_expiring_subscriptions_task(
    run: JobContext, batch_size: int = services.JOB_BATCH_SIZE
) -> int:
    """Email the learners whose paid subscription ends within three days and will not renew."""
    return services.subscriptions_notify_expiring(batch_size=batch_size, progress=run.add_items)
