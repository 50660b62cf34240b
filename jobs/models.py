from django.db import models
from django.utils import timezone


class JobTrigger(models.TextChoices):
    BEAT = "beat", "Beat schedule"
    MANUAL = "manual", "Manual (admin or shell)"
    API = "api", "API"


class JobStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class JobRun(models.Model):
    """One execution attempt of a scheduled job (a Celery retry or re-delivery is a new row)."""

    job = models.CharField(max_length=64)
    trigger = models.CharField(max_length=16, choices=JobTrigger.choices, default=JobTrigger.MANUAL)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveBigIntegerField(null=True, blank=True)
    items = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["job", "started_at"], name="jobs_run_job_started_idx"),
            models.Index(fields=["job", "status"], name="jobs_run_job_status_idx"),
            models.Index(fields=["started_at"], name="jobs_run_started_idx"),
            models.Index(fields=["task_id"], name="jobs_run_task_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.status} at {self.started_at:%Y-%m-%d %H:%M:%S}"
