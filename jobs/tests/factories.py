from datetime import timedelta

import factory
from django.utils import timezone

from jobs.models import JobRun, JobStatus, JobTrigger


class JobRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobRun

    job = "backup_critical_data"
    trigger = JobTrigger.BEAT
    status = JobStatus.SUCCEEDED
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    finished_at = factory.LazyAttribute(lambda run: run.started_at + timedelta(seconds=2))
    duration_ms = 2000
    items = 10
    task_id = factory.Faker("uuid4")
