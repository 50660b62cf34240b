"""The scheduled study notices, in each learner's own time: the daily reminder at 09:00 local and
the weekly report on Monday 08:00 local, stored in bulk by hourly jobs."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.models import UserRole
from learning.selectors import exam_activity_by_user, streaks_by_user, users_in_zones
from learning.timezones import local_midnight, zones_in_local_window
from notifications.models import NotificationChannel, NotificationKind
from notifications.services import NotificationDraft, notifications_create_many

# Rows per round trip of the scheduled jobs below (bounded memory, queries ~ N / batch).
JOB_BATCH_SIZE = 500
# A learner counts as active, and gets the daily reminder, if they studied in the last N days.
DAILY_REMINDER_ACTIVE_DAYS = 7
# Local times of the notices (the hourly runs catch up for CATCH_UP_HOURS after them).
DAILY_REMINDER_AT = time(9)
WEEKLY_REPORT_AT = time(8)


def daily_reminders_send(
    *,
    now: datetime | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Email a reminder at 09:00 local to each active learner who has not studied today.

    Run hourly: it selects the learners of the zones at local 09:xx at this UTC hour (09:30 in a
    half-hour zone), and those up to ``CATCH_UP_HOURS`` later, so a missed run is made up by the
    next one. Eligible: a learner whose streak was last active on one of the
    ``DAILY_REMINDER_ACTIVE_DAYS`` local days before today (someone who never studied, or stopped
    long ago, is not nagged; someone who studied today needs no reminder). One per user per local
    day: the key ``daily-reminder:{user}:{local date}`` makes every later run store nothing.
    Per batch: users of the zones, their streaks, existing keys, one bulk insert.
    """
    zones_by_day = zones_in_local_window(now or timezone.now(), start=DAILY_REMINDER_AT)
    zones = frozenset().union(*zones_by_day.values())
    stored, after_pk = 0, None
    while learners := users_in_zones(
        zones=zones, after_pk=after_pk, limit=batch_size, role=UserRole.LEARNER
    ):
        after_pk = learners[-1].pk
        streaks = streaks_by_user(user_ids=[user.pk for user in learners])
        drafts = [
            draft
            for user in learners
            if (streak := streaks.get(user.pk)) is not None
            and (draft := _daily_reminder(user, streak, _local_day(zones_by_day, user))) is not None
        ]
        created = notifications_create_many(drafts=drafts) if drafts else 0
        stored += created
        if progress is not None:
            progress(created)
    return stored


def _local_day(zones_by_day: Mapping[date, frozenset[str]], user) -> date:
    return next(day for day, zones in zones_by_day.items() if user.timezone in zones)


def _daily_reminder(user, streak: Mapping[str, Any], today: date) -> NotificationDraft | None:
    last_active_on = streak["last_active_on"]
    if last_active_on is None:
        return None
    if not today - timedelta(days=DAILY_REMINDER_ACTIVE_DAYS) <= last_active_on < today:
        return None
    alive = streak["current"] if last_active_on == today - timedelta(days=1) else 0
    with translation.override(user.language):
        if alive:
            title = gettext("Keep your %(days)d-day streak going") % {"days": alive}
        else:
            title = gettext("Time for today's practice")
        body = gettext("A short exam today keeps your progress going.")
    return NotificationDraft(
        user=user,
        kind=NotificationKind.DAILY_REMINDER,
        channel=NotificationChannel.EMAIL,
        title=title,
        body=body,
        dedupe_key=f"daily-reminder:{user.pk}:{today.isoformat()}",
        payload={"date": today.isoformat(), "streak": alive},
    )


@dataclass(frozen=True)
class ReportedWeek:
    """The local ISO week before a local Monday, as UTC instants (they differ per UTC offset)."""

    label: str
    starts: datetime
    ends: datetime
    today: date


def reported_weeks(now: datetime) -> dict[ReportedWeek, frozenset[str]]:
    """The zones at local Monday 08:xx (or up to ``CATCH_UP_HOURS`` later), grouped by the UTC
    span of their previous local week: local Monday 00:00 to local Monday 00:00, each converted
    with the offset of its own instant (a DST change inside the week moves only one end)."""
    groups: dict[ReportedWeek, set[str]] = {}
    for monday, zones in zones_in_local_window(now, start=WEEKLY_REPORT_AT, weekday=0).items():
        previous = monday - timedelta(days=7)
        year, week, _ = previous.isocalendar()
        for zone in zones:
            reported = ReportedWeek(
                label=f"{year}-W{week:02d}",
                starts=local_midnight(previous, zone),
                ends=local_midnight(monday, zone),
                today=monday,
            )
            groups.setdefault(reported, set()).add(zone)
    return {reported: frozenset(zones) for reported, zones in groups.items()}


def weekly_reports_generate(
    *,
    now: datetime | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """An in-app report of the previous local ISO week, on Monday 08:00 local, for each active user
    who took an exam in it: exams taken, average and best score in %, current and longest streak.

    Run hourly; zones at the same UTC offset share one span of the week. Key
    ``weekly-report:{user}:{iso year}-W{week}`` of the reported week: one per user per week, so
    the catch-up runs of the next hours store nothing twice. Per batch of users of a span: users,
    one grouped aggregate, streaks, existing keys, one bulk insert.
    """
    stored = 0
    for reported, zones in sorted(
        reported_weeks(now or timezone.now()).items(), key=lambda item: item[0].starts
    ):
        after_pk = None
        while users := users_in_zones(zones=zones, after_pk=after_pk, limit=batch_size):
            after_pk = users[-1].pk
            created = _weekly_reports_of(users, reported)
            stored += created
            if progress is not None:
                progress(created)
    return stored


def _weekly_reports_of(users: list, reported: ReportedWeek) -> int:
    user_ids = [user.pk for user in users]
    activity = exam_activity_by_user(
        user_ids=user_ids, taken_after=reported.starts, taken_before=reported.ends
    )
    if not activity:
        return 0
    streaks = streaks_by_user(user_ids=list(activity))
    drafts = [
        _weekly_report(user, activity[user.pk], streaks.get(user.pk), reported)
        for user in users
        if user.pk in activity
    ]
    return notifications_create_many(drafts=drafts)


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
    reported: ReportedWeek,
) -> NotificationDraft:
    current, longest = 0, 0
    if streak is not None:
        longest = streak["longest"]
        last_active_on = streak["last_active_on"]
        if last_active_on is not None and last_active_on >= reported.today - timedelta(days=1):
            current = streak["current"]
    average, best = round(activity["average_pct"], 1), round(activity["best_pct"], 1)
    exams = activity["exams"]
    with translation.override(user.language):
        title = _weekly_title(reported.label, exams, average)
        body = _weekly_body(exams, average, best, current, longest)
    return NotificationDraft(
        user=user,
        kind=NotificationKind.WEEKLY_REPORT,
        title=title,
        body=body,
        dedupe_key=f"weekly-report:{user.pk}:{reported.label}",
        payload={
            "week": reported.label,
            "exams": exams,
            "average_pct": average,
            "best_pct": best,
            "streak": current,
            "longest_streak": longest,
        },
    )
