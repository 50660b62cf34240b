from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from jobs import checks  # noqa: F401
        from jobs.models import JobStatus
        from jobs.registry import JOBS
        from monitoring.metrics import declare_job_runs

        finished = [status for status in JobStatus.values if status != JobStatus.RUNNING]
        declare_job_runs(JOBS, finished)
