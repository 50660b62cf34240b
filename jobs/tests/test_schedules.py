import io
import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from etrainer.celery import app as celery_app
from jobs.registry import JOBS, scheduled_jobs

pytestmark = pytest.mark.django_db

EXPECTED = {  # DESIGN.md §8: minute hour day-of-month month day-of-week
    "expire_subscriptions": ("subscriptions.tasks.expire_subscriptions_task", "0 * * * *"),
    "reset_ai_tokens": ("subscriptions.tasks.reset_ai_tokens_task", "0 0 1 * *"),
    # hourly: each learner's local 09:00, Monday 08:00 and midnight come at a different UTC hour
    "send_daily_notifications": ("notifications.tasks.send_daily_notifications_task", "0 * * * *"),
    "cleanup_exam_histories": ("learning.tasks.cleanup_exam_histories_task", "0 2 * * 0"),
    "generate_weekly_reports": ("notifications.tasks.generate_weekly_reports_task", "0 * * * *"),
    "update_streaks": ("learning.tasks.update_streaks_task", "0 * * * *"),
    "backup_critical_data": ("jobs.tasks.backup_critical_data_task", "0 3 * * *"),
    # not in §8: the refresh-token deny-list would otherwise grow forever
    "purge_revoked_tokens": ("accounts.tasks.purge_revoked_tokens_task", "30 4 * * *"),
    # not in §8: emails whose queuing was lost (broker down, retries spent) are queued again
    "requeue_unsent_emails": ("notifications.tasks.requeue_unsent_emails_task", "*/15 * * * *"),
    # not in §8: the "expiring soon" email of a paid subscription that will not renew
    "notify_expiring_subscriptions": (
        "subscriptions.tasks.notify_expiring_subscriptions_task",
        "30 * * * *",
    ),
}


def _setup(*args) -> str:
    out = io.StringIO()
    call_command("setup_schedules", *args, stdout=out)
    return out.getvalue()


def _crontab(entry: PeriodicTask) -> str:
    c = entry.crontab
    return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"


def test_the_registry_names_every_job_and_its_task():
    assert JOBS["send_email_notification"].task == (
        "notifications.tasks.send_email_notification_task"
    )
    assert JOBS["send_email_notification"].crontab is None
    assert {spec.name: (spec.task, str(spec.crontab)) for spec in scheduled_jobs()} == EXPECTED


def test_every_job_runs_a_task_registered_under_its_registry_name():
    """Beat entries and queued messages name tasks as the registry does, wherever the body lives
    (the reminder and report jobs moved to learning/tasks.py, their names did not)."""
    # given: the tasks modules a worker imports
    celery_app.autodiscover_tasks(force=True)

    # then
    assert {spec.task for spec in JOBS.values()} <= set(celery_app.tasks)


def test_setup_schedules_creates_the_beat_schedule():
    output = _setup()

    entries = {e.name: e for e in PeriodicTask.objects.select_related("crontab")}
    assert {name: (e.task, _crontab(e)) for name, e in entries.items()} == EXPECTED
    assert all(json.loads(e.kwargs) == {"trigger": "beat"} for e in entries.values())
    assert all(e.enabled and e.crontab.timezone.key == "UTC" for e in entries.values())
    assert "every Sunday at 02:00" in entries["cleanup_exam_histories"].description
    assert "Runs hourly; each learner at 09:00 local (0 * * * * UTC)." in (
        entries["send_daily_notifications"].description
    )
    assert "Runs hourly; each user on Monday at 08:00 local" in (
        entries["generate_weekly_reports"].description
    )
    assert "Runs hourly; each learner at local midnight" in entries["update_streaks"].description
    assert output.count(": created") == len(EXPECTED)


def test_setup_schedules_is_idempotent():
    _setup()
    counts = (PeriodicTask.objects.count(), CrontabSchedule.objects.count())

    output = _setup()

    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count()) == counts
    assert output.count(": unchanged") == len(EXPECTED)


def test_an_operators_schedule_and_switch_are_kept_but_the_task_name_is_corrected():
    # given: an operator moved the backup to 04:30 and disabled it; someone renamed its task
    _setup()
    entry = PeriodicTask.objects.get(name="backup_critical_data")
    entry.crontab = CrontabSchedule.objects.create(minute="30", hour="4", timezone="UTC")
    entry.enabled = False
    entry.task = "jobs.tasks.old_name"
    entry.save()

    # when
    output = _setup()

    # then
    entry.refresh_from_db()
    assert (_crontab(entry), entry.enabled) == ("30 4 * * *", False)
    assert entry.task == "jobs.tasks.backup_critical_data_task"
    assert "backup_critical_data: kept-operator-schedule: 30 4 * * * (code: 0 3 * * *" in output


def test_reset_restores_the_codes_schedule():
    _setup()
    entry = PeriodicTask.objects.get(name="update_streaks")
    entry.crontab = CrontabSchedule.objects.create(minute="5", hour="1", timezone="UTC")
    entry.enabled = False
    entry.save()

    _setup("--reset")

    entry.refresh_from_db()
    assert (_crontab(entry), entry.enabled) == ("0 * * * *", True)


def test_the_former_utc_crontabs_of_the_local_time_jobs_become_hourly():
    """Entries written by the code before the local-time jobs are not an operator's choice: a plain
    ``setup_schedules`` makes them hourly (an operator's own crontab elsewhere is still kept)."""
    # given: the schedule as the earlier code wrote it
    _setup()
    former = {
        "send_daily_notifications": ("0", "9", "*"),
        "generate_weekly_reports": ("0", "8", "1"),
        "update_streaks": ("0", "0", "*"),
    }
    for name, (minute, hour, day_of_week) in former.items():
        entry = PeriodicTask.objects.get(name=name)
        entry.crontab = CrontabSchedule.objects.create(
            minute=minute, hour=hour, day_of_week=day_of_week, timezone="UTC"
        )
        entry.description = "Daily reminders, at most one per user per day. Runs every day at 09:00"
        entry.save()

    # when
    output = _setup()

    # then
    entries = {e.name: e for e in PeriodicTask.objects.select_related("crontab")}
    assert {name: _crontab(entries[name]) for name in former} == dict.fromkeys(former, "0 * * * *")
    assert "Runs hourly; each learner at 09:00 local" in (
        entries["send_daily_notifications"].description
    )
    assert output.count(": updated") == len(former)
    assert "kept-operator-schedule" not in output
