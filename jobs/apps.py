from django.apps import AppConfig

from etrainer.metrics import declare_job_runs
from jobs.registry import JOBS


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Models (and the checks, which read them) load only once the app registry is ready.
        from jobs import checks  # noqa: F401, PLC0415 (registers the system checks)
        from jobs.models import JobStatus  # noqa: PLC0415

        finished = [status for status in JobStatus.values if status != JobStatus.RUNNING]
        declare_job_runs(JOBS, finished)
