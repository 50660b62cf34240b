"""Celery tasks of the jobs app (found by autodiscovery): thin wrappers over services."""

from pathlib import Path

from django.conf import settings

from jobs.backups import backup_create, backup_prune
from jobs.runner import JobContext, job_task


@job_task("backup_critical_data")
def backup_critical_data_task(run: JobContext) -> int:
    """Back up the models of BACKUP_MODELS, then keep the newest BACKUP_KEEP backups."""
    directory = Path(str(settings.BACKUP_DIR))
    backup_create(
        directory=directory,
        labels=settings.BACKUP_MODELS,
        batch_size=settings.BACKUP_BATCH_SIZE,
        task_id=run.task_id,
        throttle=settings.BACKUP_THROTTLE_SECONDS,
        progress=run.add_items,
    )
    backup_prune(directory=directory, keep=settings.BACKUP_KEEP)
    return run.items
