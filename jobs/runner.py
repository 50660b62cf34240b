"""The machinery every scheduled job runs under: ``@job_task("name")``.

A run takes the job's Redis lock (a second, overlapping run is recorded ``skipped``), records a
JobRun row (trigger, status, items, duration, error, task id) and the job metrics, and retries
with exponential backoff on failure. Tasks are ``acks_late`` with ``reject_on_worker_lost`` and
soft/hard time limits, so a run whose worker dies is re-delivered; the body must therefore be
idempotent and batched.
"""

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError

from etrainer.metrics import record_job_run
from jobs import services
from jobs.locks import JobLock, LockUnavailable
from jobs.models import JobRun, JobStatus, JobTrigger
from jobs.registry import job_spec

logger = logging.getLogger("etrainer.jobs")


@dataclass
class JobContext:
    """Handed to a job body: count what it processed with ``add_items``."""

    job: str
    trigger: str
    task_id: str
    run: JobRun
    items: int = 0

    def add_items(self, count: int) -> None:
        self.items += count


def lock_ttl(task) -> int:
    """At least the hard time limit: the lock outlives any run the worker lets finish."""
    hard_limit = task.time_limit or task.app.conf.task_time_limit or 3600
    return int(hard_limit) + settings.JOBS_LOCK_TTL_MARGIN


def job_task(
    job: str,
    *,
    soft_time_limit: int | None = None,
    time_limit: int | None = None,
    max_retries: int | None = None,
) -> Callable:
    """Turn ``body(run: JobContext, **kwargs) -> int | None`` into a Celery job task.

    The task is named as ``jobs.registry`` says (so a job's body can move to another app without
    breaking beat schedules or queued messages; Celery's default, module + function name, for a
    job the registry does not know), accepts ``trigger`` (beat, manual, api) besides the body's own
    keyword arguments, and returns a small status dict.
    """
    spec = job_spec(job)

    def decorate(body: Callable) -> Callable:
        @functools.wraps(body)
        def run(self, trigger: str = JobTrigger.MANUAL, **kwargs):
            return execute_job(self, job=job, body=body, trigger=trigger, kwargs=kwargs)

        return shared_task(
            name=spec.task if spec is not None else None,
            bind=True,
            acks_late=True,
            reject_on_worker_lost=True,
            soft_time_limit=soft_time_limit,
            time_limit=time_limit,
            max_retries=settings.JOBS_MAX_RETRIES if max_retries is None else max_retries,
        )(run)

    return decorate


def execute_job(task, *, job: str, body: Callable, trigger: str, kwargs: dict) -> dict:
    task_id = task.request.id or ""
    started = time.monotonic()
    lock = JobLock(job, ttl=lock_ttl(task))
    try:
        acquired = lock.acquire()
    except LockUnavailable as error:
        _record_unlocked(job, trigger, task_id, JobStatus.FAILED, str(error), started)
        _retry_or_raise(task, error)
    if not acquired:
        reason = "another run of this job holds the lock"
        _record_unlocked(job, trigger, task_id, JobStatus.SKIPPED, reason, started)
        return {"job": job, "status": JobStatus.SKIPPED.value}
    try:
        return _run_locked(task, job=job, body=body, trigger=trigger, kwargs=kwargs)
    finally:
        lock.release()


def _run_locked(task, *, job: str, body: Callable, trigger: str, kwargs: dict) -> dict:
    """A failure to write the starting row stops the run (retried: the DB is what jobs need);
    a failure to write the final row is logged only — the work is done and idempotent."""
    task_id = task.request.id or ""
    started = time.monotonic()
    try:
        run = services.job_run_start(job=job, trigger=trigger, task_id=task_id)
    except DatabaseError as error:
        record_job_run(job, JobStatus.FAILED, _elapsed_ms(started) / 1000)
        logger.exception("Job %s: could not record its start; not run (task %s)", job, task_id)
        _retry_or_raise(task, error)
    context = JobContext(job=job, trigger=trigger, task_id=task_id, run=run)
    try:
        returned = body(context, **kwargs)
    except Exception as error:
        _finish(run, JobStatus.FAILED, context.items, started, f"{type(error).__name__}: {error}")
        logger.exception("Job %s failed (task %s)", job, task_id)
        _retry_or_raise(task, error)
    items = returned if isinstance(returned, int) else context.items
    _finish(run, JobStatus.SUCCEEDED, items, started)
    return {"job": job, "status": JobStatus.SUCCEEDED.value, "items": items, "run": str(run.pk)}


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _finish(run: JobRun, status: str, items: int, started: float, error: str = "") -> None:
    duration_ms = _elapsed_ms(started)
    record_job_run(run.job, status, duration_ms / 1000)
    try:
        services.job_run_finish(
            run=run, status=status, items=items, duration_ms=duration_ms, error=error
        )
    except DatabaseError:
        logger.exception("Job %s: could not record the end of run %s", run.job, run.pk)


def _record_unlocked(
    job: str, trigger: str, task_id: str, status: str, error: str, started: float
) -> None:
    record_job_run(job, status, _elapsed_ms(started) / 1000)
    try:
        services.job_run_record(
            job=job, trigger=trigger, task_id=task_id, status=status, error=error
        )
    except DatabaseError:
        logger.exception("Job %s: could not record a %s run", job, status)


def _retry_or_raise(task, error: Exception) -> NoReturn:
    """Celery's retry with exponential backoff and jitter (it raises ``Retry``, or the error once
    the retries are spent). Eager runs (no broker) do not retry: Celery would re-run them inline
    at once, with no backoff."""
    if task.request.is_eager or task.request.called_directly:
        raise error
    countdown = get_exponential_backoff_interval(
        factor=settings.JOBS_RETRY_BACKOFF,
        retries=task.request.retries,
        maximum=settings.JOBS_RETRY_BACKOFF_MAX,
        full_jitter=True,
    )
    raise task.retry(exc=error, countdown=countdown)
