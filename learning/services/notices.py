"""The scheduled study notices: the daily reminder and the weekly report, stored in bulk."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts.models import UserRole
from learning.selectors import (
    exam_activity_by_user,
    streaks_by_user,
    streaks_last_active_between,
    users_active_in_bulk,
)
from learning.timezones import local_date
from notifications.models import NotificationChannel, NotificationKind
from notifications.services import NotificationDraft, notifications_create_many

# Rows per round trip of the scheduled jobs below (bounded memory, queries ~ N / batch).
JOB_BATCH_SIZE = 500
# A learner counts as active, and gets the daily reminder, if they studied in the last N days.
DAILY_REMINDER_ACTIVE_DAYS = 7


def daily_reminders_send(
    *,
    now: datetime | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Email a reminder to each active learner who has not studied today, in their timezone.

    Eligible: an active account with the learner role whose streak was last active on one of the
    ``DAILY_REMINDER_ACTIVE_DAYS`` local days before today (someone who never studied, or stopped
    long ago, is not nagged; someone who studied today needs no reminder). One per user per local
    day: the key ``daily-reminder:{user}:{local date}`` makes a second run store and send nothing.
    Per batch: streaks, users, existing keys, one bulk insert.
    """
    now = now or timezone.now()
    utc_today = now.astimezone(UTC).date()
    # Local dates run from UTC-12 to UTC+14: local "today" is within a day of the UTC date.
    first_day = utc_today - timedelta(days=DAILY_REMINDER_ACTIVE_DAYS + 1)
    stored, after_pk = 0, None
    while streaks := streaks_last_active_between(
        first_day=first_day, last_day=utc_today, after_pk=after_pk, limit=batch_size
    ):
        after_pk = streaks[-1]["pk"]
        learners = users_active_in_bulk(
            user_ids=[row["user_id"] for row in streaks], role=UserRole.LEARNER
        )
        drafts = [
            draft
            for row in streaks
            if row["user_id"] in learners
            and (draft := _daily_reminder(learners[row["user_id"]], row, now)) is not None
        ]
        created = notifications_create_many(drafts=drafts)
        stored += created
        if progress is not None:
            progress(created)
    return stored


def _daily_reminder(user, streak: Mapping[str, Any], now: datetime) -> NotificationDraft | None:
    today = local_date(now, user.timezone)
    last_active_on = streak["last_active_on"]
    if not today - timedelta(days=DAILY_REMINDER_ACTIVE_DAYS) <= last_active_on < today:
        return None
    alive = streak["current"] if last_active_on == today - timedelta(days=1) else 0
    if alive:
        title = gettext("Keep your %(days)d-day streak going") % {"days": alive}
    else:
        title = gettext("Time for today's practice")
    return NotificationDraft(
        user=user,
        kind=NotificationKind.DAILY_REMINDER,
        channel=NotificationChannel.EMAIL,
        title=title,
        body=gettext("A short exam today keeps your progress going."),
        dedupe_key=f"daily-reminder:{user.pk}:{today.isoformat()}",
        payload={"date": today.isoformat(), "streak": alive},
    )


def weekly_reports_generate(
    *,
    now: datetime | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """An in-app report of the previous ISO week (Monday to Monday, UTC) for each active user
    who took an exam in it: exams taken, average and best score in %, current and longest streak.

    Key ``weekly-report:{user}:{iso year}-W{week}`` of the reported week: one per user per week.
    Per batch of users: one grouped aggregate, users, streaks, existing keys, one bulk insert.
    """
    now = now or timezone.now()
    week_end = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    week_end -= timedelta(days=week_end.weekday())
    week_start = week_end - timedelta(days=7)
    year, week, _ = week_start.isocalendar()
    label = f"{year}-W{week:02d}"
    stored, after_user_id = 0, None
    while rows := exam_activity_by_user(
        taken_after=week_start, taken_before=week_end, after_user_id=after_user_id, limit=batch_size
    ):
        after_user_id = rows[-1]["user_id"]
        user_ids = [row["user_id"] for row in rows]
        users = users_active_in_bulk(user_ids=user_ids)
        streaks = streaks_by_user(user_ids=user_ids)
        drafts = [
            _weekly_report(users[row["user_id"]], row, streaks.get(row["user_id"]), label, now)
            for row in rows
            if row["user_id"] in users
        ]
        created = notifications_create_many(drafts=drafts)
        stored += created
        if progress is not None:
            progress(created)
    return stored


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _weekly_title(label: str, exams: int, average: float) -> str:
    text = ngettext(
        "Your week %(week)s: %(exams)d exam, average %(average)s%%",
        "Your week %(week)s: %(exams)d exams, average %(average)s%%",
        exams,
    )
    return text % {"week": label, "exams": exams, "average": f"{average:g}"}


def _weekly_body(exams: int, average: float, best: float, current: int, longest: int) -> str:
    lines = [
        gettext("Exams taken: %(exams)d") % {"exams": exams},
        gettext("Average score: %(average)s%%") % {"average": f"{average:g}"},
        gettext("Best score: %(best)s%%") % {"best": f"{best:g}"},
        gettext("Current streak: %(current)s (longest: %(longest)s)")
        % {"current": _days(current), "longest": _days(longest)},
    ]
    return "\n".join(lines)


def _weekly_report(
    user,
    activity: Mapping[str, Any],
    streak: Mapping[str, Any] | None,
    label: str,
    now: datetime,
) -> NotificationDraft:
    today = local_date(now, user.timezone)
    current, longest = 0, 0
    if streak is not None:
        longest = streak["longest"]
        last_active_on = streak["last_active_on"]
        if last_active_on is not None and last_active_on >= today - timedelta(days=1):
            current = streak["current"]
    average, best = round(activity["average_pct"], 1), round(activity["best_pct"], 1)
    exams = activity["exams"]
    return NotificationDraft(
        user=user,
        kind=NotificationKind.WEEKLY_REPORT,
        title=_weekly_title(label, exams, average),
        body=_weekly_body(exams, average, best, current, longest),
        dedupe_key=f"weekly-report:{user.pk}:{label}",
        payload={
            "week": label,
            "exams": exams,
            "average_pct": average,
            "best_pct": best,
            "streak": current,
            "longest_streak": longest,
        },
    )
