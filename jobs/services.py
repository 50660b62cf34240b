"""Writes of the jobs app: run records and queuing a job on demand."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from jobs.models import JobRun, JobStatus, JobTrigger
from jobs.registry import JOBS, job_for_task, job_spec

JOB_UNAVAILABLE = "job_unavailable"
ABANDONED_ERROR = "abandoned: the worker stopped before the run finished (re-delivered or retried)"


def job_run_start(*, job: str, trigger: str, task_id: str) -> JobRun:
    """Record a run that holds the job's lock.

    Holding the lock proves no other run of this job is active, so any row still ``running`` was
    left by a worker that died (SIGKILL, hard time limit, lost host): it is closed as failed.
    """
    now = timezone.now()
    JobRun.objects.filter(job=job, status=JobStatus.RUNNING).update(
        status=JobStatus.FAILED, finished_at=now, error=ABANDONED_ERROR
    )
    return JobRun.objects.create(
        job=job, trigger=trigger, status=JobStatus.RUNNING, started_at=now, task_id=task_id
    )


def job_run_finish(
    *, run: JobRun, status: str, items: int, duration_ms: int, error: str = ""
) -> JobRun:
    run.status = status
    run.items = items
    run.duration_ms = duration_ms
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "items", "duration_ms", "error", "finished_at"])
    return run


def job_run_record(*, job: str, trigger: str, task_id: str, status: str, error: str) -> JobRun:
    """A run that never held the lock (skipped: another run is active; failed: no lock store)."""
    now = timezone.now()
    return JobRun.objects.create(
        job=job,
        trigger=trigger,
        status=status,
        started_at=now,
        finished_at=now,
        duration_ms=0,
        error=error,
        task_id=task_id,
    )


@dataclass(frozen=True)
class QueuedJob:
    job: str
    task: str
    task_id: str
    eta: datetime | None
    mode: str
    state: str


def registered_task(name: str):
    """The task object if this process knows it (tasks.py modules are imported lazily)."""
    current_app.loader.import_default_modules()
    return current_app.tasks.get(name)


def _validation_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        ErrorCode.VALIDATION_ERROR,
        _("The request is invalid."),
        status=400,
        details={"fields": {field: [message]}},
    )


def _check_eta(eta: datetime | None) -> None:
    """The eta must be in the future and within the broker's visibility timeout: a Redis broker
    re-delivers a message held longer than that, so a farther eta would run the job twice."""
    if eta is None:
        return
    now = timezone.now()
    if eta <= now:
        raise _validation_error("eta", "The time must be in the future.")
    horizon = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    if eta > now + timedelta(seconds=horizon):
        raise _validation_error("eta", f"The time must be within {horizon} seconds from now.")


def job_schedule(
    *, job: str, eta: datetime | None = None, trigger: str = JobTrigger.API
) -> QueuedJob:
    """Queue a registered job by its task name, now or at ``eta``.

    With a broker the message is sent by name (the worker owns the code). With eager tasks (no
    broker, development) the job runs inline at once, ``eta`` notwithstanding.
    """
    spec = job_spec(job)
    if spec is None:
        raise _validation_error("job", f"Unknown job. Known jobs: {', '.join(sorted(JOBS))}.")
    _check_eta(eta)
    task_id = str(uuid.uuid4())
    kwargs = {"trigger": trigger}
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        current_app.send_task(spec.task, kwargs=kwargs, eta=eta, task_id=task_id)
        return QueuedJob(job, spec.task, task_id, eta, mode="queued", state="PENDING")
    task = registered_task(spec.task)
    if task is None:
        raise ApplicationError(
            JOB_UNAVAILABLE,
            _("The task %(task)s is not available in this process.") % {"task": spec.task},
            status=503,
        )
    result = task.apply(kwargs=kwargs, task_id=task_id, throw=False)
    return QueuedJob(job, spec.task, task_id, eta, mode="eager", state=result.state)


def periodic_task_run_now(*, periodic_task) -> QueuedJob | str:
    """The admin's "run now": queue a beat entry's task with its own args, as a manual run."""
    kwargs = json.loads(periodic_task.kwargs or "{}")
    spec = job_for_task(periodic_task.task)
    if spec is not None:
        return job_schedule(job=spec.name, trigger=JobTrigger.MANUAL)
    args = json.loads(periodic_task.args or "[]")
    task = registered_task(periodic_task.task)
    if settings.CELERY_TASK_ALWAYS_EAGER and task is not None:
        return task.apply(args=args, kwargs=kwargs, throw=False).id
    return current_app.send_task(periodic_task.task, args=args, kwargs=kwargs).id
