"""The beat schedule as code, written into django-celery-beat's tables by ``setup_schedules``.

Policy: the command creates missing entries with the code's crontab. For an existing entry it
always re-applies what code owns — the task name and the ``trigger`` kwarg — and keeps what an
operator may have changed in the admin (crontab, enabled, description) unless ``reset`` is
asked; it reports every entry whose schedule differs from the code's. A crontab that earlier code
wrote (``JobSpec.former_crontabs``) is not an operator's: it is replaced by the code's.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from jobs.models import JobTrigger
from jobs.registry import Crontab, JobSpec, scheduled_jobs

BEAT_KWARGS = json.dumps({"trigger": JobTrigger.BEAT})


@dataclass(frozen=True)
class ScheduleChange:
    job: str
    action: str  # created, updated, unchanged, kept-operator-schedule
    detail: str = ""


def crontab_schedule(crontab: Crontab) -> CrontabSchedule:
    fields = {**crontab.as_fields(), "timezone": settings.CELERY_TIMEZONE}
    return CrontabSchedule.objects.filter(**fields).first() or CrontabSchedule.objects.create(
        **fields
    )


def crontab_text(schedule: CrontabSchedule | None) -> str:
    if schedule is None:
        return ""
    return " ".join(
        (
            schedule.minute,
            schedule.hour,
            schedule.day_of_month,
            schedule.month_of_year,
            schedule.day_of_week,
        )
    )


def _description(spec: JobSpec) -> str:
    return f"{spec.description} Runs {spec.in_words} ({spec.crontab} {settings.CELERY_TIMEZONE})."


def schedule_job(spec: JobSpec, *, reset: bool) -> ScheduleChange:
    entry = PeriodicTask.objects.select_related("crontab").filter(name=spec.name).first()
    if entry is None:
        PeriodicTask.objects.create(
            name=spec.name,
            task=spec.task,
            crontab=crontab_schedule(spec.crontab),
            kwargs=BEAT_KWARGS,
            description=_description(spec),
            enabled=True,
        )
        return ScheduleChange(spec.name, "created", f"{spec.crontab} ({spec.in_words})")
    code_owned = {"task": spec.task, "kwargs": BEAT_KWARGS}
    wanted = str(spec.crontab)
    current = crontab_text(entry.crontab)
    if current in spec.former_crontabs:
        code_owned.update(crontab=crontab_schedule(spec.crontab), description=_description(spec))
        current = wanted
    if reset:
        code_owned.update(
            crontab=crontab_schedule(spec.crontab),
            interval=None,
            solar=None,
            clocked=None,
            enabled=True,
            description=_description(spec),
        )
    changed = [f for f, value in code_owned.items() if getattr(entry, f) != value]
    if changed:
        for field, value in code_owned.items():
            setattr(entry, field, value)
        entry.save()
    if current != wanted and not reset:
        return ScheduleChange(
            spec.name, "kept-operator-schedule", f"{current} (code: {wanted}; --reset applies it)"
        )
    return ScheduleChange(spec.name, "updated" if changed else "unchanged", ", ".join(changed))


def setup_schedules(*, reset: bool = False) -> list[ScheduleChange]:
    return [schedule_job(spec, reset=reset) for spec in scheduled_jobs()]
