from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobTrigger(models.TextChoices):
    BEAT = "beat", _("Beat schedule")
    MANUAL = "manual", _("Manual (admin or shell)")
    API = "api", _("API")


class JobStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class JobRun(models.Model):
    """One execution attempt of a scheduled job (a Celery retry or re-delivery is a new row)."""

    job = models.CharField(max_length=64, verbose_name=_("job"))
    trigger = models.CharField(
        max_length=16,
        choices=JobTrigger.choices,
        default=JobTrigger.MANUAL,
        verbose_name=_("trigger"),
    )
    status = models.CharField(
        max_length=16,
        choices=JobStatus.choices,
        default=JobStatus.RUNNING,
        verbose_name=_("status"),
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    duration_ms = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("duration ms")
    )
    items = models.PositiveBigIntegerField(default=0, verbose_name=_("items"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    task_id = models.CharField(max_length=255, blank=True, verbose_name=_("task ID"))

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["job", "started_at"], name="jobs_run_job_started_idx"),
            models.Index(fields=["job", "status"], name="jobs_run_job_status_idx"),
            models.Index(fields=["started_at"], name="jobs_run_started_idx"),
            models.Index(fields=["task_id"], name="jobs_run_task_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.status} at {self.started_at:%Y-%m-%d %H:%M:%S}"
