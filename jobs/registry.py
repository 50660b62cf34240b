"""The jobs of DESIGN.md §8: name → Celery task name and crontab.

``jobs.runner.job_task`` names each job's Celery task as written here (the module path + function
name where the task was first written), so the registry, the beat schedule and the API can refer to
a job before its app's tasks.py is imported, and a task keeps its name when its body moves.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Crontab:
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"

    def as_fields(self) -> dict[str, str]:
        return {
            "minute": self.minute,
            "hour": self.hour,
            "day_of_week": self.day_of_week,
            "day_of_month": self.day_of_month,
            "month_of_year": self.month_of_year,
        }

    def __str__(self) -> str:
        return " ".join(
            (self.minute, self.hour, self.day_of_month, self.month_of_year, self.day_of_week)
        )


@dataclass(frozen=True)
class JobSpec:
    name: str
    task: str
    description: str
    crontab: Crontab | None = None
    in_words: str = "on demand"
    # Crontabs earlier code wrote ("m h dom mon dow"): setup_schedules replaces them with the
    # code's, as they are not an operator's choice (the UTC schedules before local-time jobs).
    former_crontabs: tuple[str, ...] = ()


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in [
        JobSpec(
            name="expire_subscriptions",
            task="subscriptions.tasks.expire_subscriptions_task",
            description="Mark due subscriptions expired, invalidate their caches, notify.",
            crontab=Crontab(minute="0"),
            in_words="every hour, on the hour",
        ),
        JobSpec(
            name="notify_expiring_subscriptions",
            task="subscriptions.tasks.notify_expiring_subscriptions_task",
            description="Email learners whose paid, non-renewing subscription ends within 3 days.",
            crontab=Crontab(minute="30"),
            in_words="every hour, at half past",
        ),
        JobSpec(
            name="reset_ai_tokens",
            task="subscriptions.tasks.reset_ai_tokens_task",
            description="Start a new AI-token period for every account, in bulk.",
            crontab=Crontab(minute="0", hour="0", day_of_month="1"),
            in_words="monthly, on the 1st at 00:00",
        ),
        JobSpec(
            name="send_daily_notifications",
            task="notifications.tasks.send_daily_notifications_task",
            description="Daily reminders, at most one per user per local day.",
            crontab=Crontab(minute="0"),
            in_words="hourly; each learner at 09:00 local",
            former_crontabs=("0 9 * * *",),
        ),
        JobSpec(
            name="cleanup_exam_histories",
            task="learning.tasks.cleanup_exam_histories_task",
            description="Delete exam histories older than the retention period.",
            crontab=Crontab(minute="0", hour="2", day_of_week="0"),
            in_words="every Sunday at 02:00",
        ),
        JobSpec(
            name="generate_weekly_reports",
            task="notifications.tasks.generate_weekly_reports_task",
            description="Weekly report notification per user, of their previous local week.",
            crontab=Crontab(minute="0"),
            in_words="hourly; each user on Monday at 08:00 local",
            former_crontabs=("0 8 * * 1",),
        ),
        JobSpec(
            name="update_streaks",
            task="learning.tasks.update_streaks_task",
            description="Break the streaks of users inactive on their local yesterday.",
            crontab=Crontab(minute="0"),
            in_words="hourly; each learner at local midnight",
            former_crontabs=("0 0 * * *",),
        ),
        JobSpec(
            name="backup_critical_data",
            task="jobs.tasks.backup_critical_data_task",
            description="Gzip JSON-lines export of critical tables + manifest; keeps the newest N.",
            crontab=Crontab(minute="0", hour="3"),
            in_words="every day at 03:00",
        ),
        JobSpec(
            name="purge_revoked_tokens",
            task="accounts.tasks.purge_revoked_tokens_task",
            description="Drop expired refresh-token deny-list entries and stale failed logins.",
            crontab=Crontab(minute="30", hour="4"),
            in_words="every day at 04:30",
        ),
        JobSpec(
            name="requeue_unsent_emails",
            task="notifications.tasks.requeue_unsent_emails_task",
            description="Queue again the email notifications left unsent (broker down, retries "
            "spent).",
            crontab=Crontab(minute="*/15"),
            in_words="every 15 minutes",
        ),
        JobSpec(
            name="send_email_notification",
            task="notifications.tasks.send_email_notification_task",
            description="Queued delivery of one email notification, with retries.",
        ),
    ]
}


def job_spec(name: str) -> JobSpec | None:
    return JOBS.get(name)


def job_for_task(task_name: str) -> JobSpec | None:
    return next((spec for spec in JOBS.values() if spec.task == task_name), None)


def scheduled_jobs() -> list[JobSpec]:
    return [spec for spec in JOBS.values() if spec.crontab is not None]
