"""System check: the broker must not re-deliver a job while its run may still hold the lock."""

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register()
def visibility_timeout_outlives_job_locks(app_configs, **kwargs):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return []
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    lock_ttl = (settings.CELERY_TASK_TIME_LIMIT or 0) + settings.JOBS_LOCK_TTL_MARGIN
    if timeout > lock_ttl:
        return []
    return [
        CheckWarning(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout}s) is not longer than the job lock TTL "
            f"({lock_ttl}s = CELERY_TASK_TIME_LIMIT + JOBS_LOCK_TTL_MARGIN).",
            hint="A job re-delivered before its lock expires is recorded as skipped, and a "
            "running job may be delivered twice. Raise CELERY_VISIBILITY_TIMEOUT.",
            id="jobs.W001",
        )
    ]
