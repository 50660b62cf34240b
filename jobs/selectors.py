"""Reads of the jobs app: per-job figures for the dashboard and /api/system/jobs/stats."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from jobs.models import JobRun, JobStatus
from jobs.registry import JOBS, JobSpec
from jobs.schedules import crontab_text

WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class JobFigures:
    job: str
    task: str
    description: str
    schedule: str
    schedule_in_words: str
    enabled: bool
    last_run: JobRun | None
    runs: dict[str, int]
    success_rate: float | None
    avg_duration_ms: int | None
    next_run: datetime | None


def _window_counts(since: datetime) -> tuple[dict, dict]:
    """One grouped query: runs per (job, status) and the mean duration of successful runs."""
    counts: dict[str, dict[str, int]] = {}
    durations: dict[str, float] = {}
    rows = (
        JobRun.objects.filter(started_at__gte=since)
        .values("job", "status")
        .annotate(n=Count("id"), avg=Avg("duration_ms"))
        .order_by()
    )
    for row in rows:
        counts.setdefault(row["job"], {})[row["status"]] = row["n"]
        if row["status"] == JobStatus.SUCCEEDED and row["avg"] is not None:
            durations[row["job"]] = row["avg"]
    return counts, durations


def _next_run(entry: PeriodicTask, now: datetime) -> datetime | None:
    if not entry.enabled:
        return None
    try:
        schedule = entry.schedule
        remaining = schedule.remaining_estimate(entry.last_run_at or now)
    except (AttributeError, TypeError, ValueError):
        return None
    estimate = now + remaining + timedelta(milliseconds=500)
    return max(now, estimate).replace(microsecond=0)


def _success_rate(runs: dict[str, int]) -> float | None:
    decided = runs.get(JobStatus.SUCCEEDED, 0) + runs.get(JobStatus.FAILED, 0)
    return round(runs.get(JobStatus.SUCCEEDED, 0) / decided, 4) if decided else None


def _figures(spec: JobSpec, entries: list[PeriodicTask], counts, durations, now) -> JobFigures:
    entry = next((e for e in entries if e.task == spec.task), None)
    runs = counts.get(spec.name, {})
    average = durations.get(spec.name)
    return JobFigures(
        job=spec.name,
        task=spec.task,
        description=spec.description,
        schedule=crontab_text(entry.crontab) if entry else str(spec.crontab or ""),
        schedule_in_words=spec.in_words,
        enabled=bool(entry and entry.enabled),
        last_run=JobRun.objects.filter(job=spec.name).order_by("-started_at").first(),
        runs={status: runs.get(status, 0) for status in JobStatus.values},
        success_rate=_success_rate(runs),
        avg_duration_ms=round(average) if average is not None else None,
        next_run=_next_run(entry, now) if entry else None,
    )


def job_dashboard(*, now: datetime | None = None) -> list[JobFigures]:
    """Every registered job; queries: 1 grouped count, 1 for beat entries, 1 per job (8)."""
    now = now or timezone.now()
    counts, durations = _window_counts(now - WINDOW)
    tasks = [spec.task for spec in JOBS.values()]
    entries = list(
        PeriodicTask.objects.filter(task__in=tasks)
        .select_related("crontab", "interval", "solar", "clocked")
        .order_by("name")
    )
    return [_figures(spec, entries, counts, durations, now) for spec in JOBS.values()]


def job_run_for_task(task_id: str) -> JobRun | None:
    """The newest run recorded for a Celery task id (none yet while the message waits)."""
    return JobRun.objects.filter(task_id=task_id).order_by("-started_at").first()
