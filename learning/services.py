"""Writes of the learning app: exam histories and streaks."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from accounts.models import UserRole
from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically
from learning.models import ExamHistory, Streak
from learning.selectors import (
    exam_activity_by_user,
    streaks_by_user,
    streaks_last_active_between,
    users_active_in_bulk,
)
from learning.timezones import local_date
from notifications.models import NotificationChannel, NotificationKind
from notifications.services import NotificationDraft, notifications_create_many, notify

logger = logging.getLogger(__name__)

# Each failed swap means another request just changed the streak; a handful always suffices.
STREAK_UPDATE_ATTEMPTS = 8


@dataclass(frozen=True)
class StreakUpdate:
    streak: Streak
    advanced: bool


def _invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(
        ErrorCode.VALIDATION_ERROR, "The request is invalid.", details={"fields": fields}
    )


def exam_history_record(
    *,
    user,
    exam_code: str,
    score: int,
    max_score: int,
    duration_s: int,
    taken_at: datetime | None = None,
) -> ExamHistory:
    """Store one exam result and count the request as activity for the streak.

    ``taken_at`` is the client's word: stored as reported, within bounds (not in the future, not
    older than ``EXAM_TAKEN_AT_MAX_AGE_DAYS``), but it never moves the streak. The streak counts
    the local day on which the server received the exam, so back-dated exams cannot forge one and
    the order in which exams arrive changes nothing. The exam, the streak and a milestone
    notification are one all-or-nothing write: a failure leaves none of them.
    """
    now = timezone.now()
    exam = ExamHistory(
        user=user,
        exam_code=exam_code,
        score=score,
        max_score=max_score,
        duration_s=duration_s,
        taken_at=taken_at or now,
    )
    _validate_exam(exam, now=now)

    def record() -> None:
        exam.save(force_insert=True)
        update = streak_record_activity(user=user, at=now)
        _celebrate_milestone(user=user, update=update)

    atomically(record)
    return exam


def _validate_exam(exam: ExamHistory, *, now: datetime) -> None:
    errors: dict[str, list[str]] = {}
    try:
        exam.full_clean(exclude=["user"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    scores_valid = isinstance(exam.score, int) and isinstance(exam.max_score, int)
    if scores_valid and exam.score > exam.max_score:
        errors.setdefault("score", []).append("The score cannot exceed max_score.")
    if exam.taken_at > now:
        errors.setdefault("taken_at", []).append("taken_at cannot be in the future.")
    max_age = timedelta(days=settings.EXAM_TAKEN_AT_MAX_AGE_DAYS)
    if exam.taken_at < now - max_age:
        errors.setdefault("taken_at", []).append(
            f"taken_at cannot be more than {max_age.days} days ago."
        )
    if errors:
        raise _invalid(errors)


def streak_record_activity(*, user, at: datetime) -> StreakUpdate:
    """Count activity at ``at`` for the streak, on its date in the user's timezone.

    Concurrency without row locks (none exist on MongoDB): read the row, compute the next state,
    then write it with a compare-and-swap, an ``update()`` filtered on the values just read
    (``last_active_on`` and ``current``). If another request got there first, nothing is written,
    the row is read again and the step repeated: a second activity on the same day then sees the
    day already counted and changes nothing, so two concurrent exams never count a day twice.
    Activity on a day before ``last_active_on`` (a back-dated exam) does not move the streak.
    """
    day = local_date(at, user.timezone)
    streak, _ = Streak.objects.get_or_create(user=user)
    for _attempt in range(STREAK_UPDATE_ATTEMPTS):
        if streak.last_active_on is not None and streak.last_active_on >= day:
            return StreakUpdate(streak=streak, advanced=False)
        if _swap_streak(streak, day):
            return StreakUpdate(streak=streak, advanced=True)
        streak.refresh_from_db()
    logger.warning(
        "Streak of user %s still contended after %s attempts", user.pk, STREAK_UPDATE_ATTEMPTS
    )
    return StreakUpdate(streak=streak, advanced=False)


def _swap_streak(streak: Streak, day: date) -> bool:
    continues = streak.last_active_on == day - timedelta(days=1)
    current = streak.current + 1 if continues else 1
    longest = max(streak.longest, current)
    swapped = Streak.objects.filter(
        pk=streak.pk, last_active_on=streak.last_active_on, current=streak.current
    ).update(current=current, longest=longest, last_active_on=day, updated_at=timezone.now())
    if swapped:
        streak.current, streak.longest, streak.last_active_on = current, longest, day
    return bool(swapped)


def _celebrate_milestone(*, user, update: StreakUpdate) -> None:
    """An email on reaching a milestone (7, 30, … days); the key makes it once per milestone day."""
    days = update.streak.current
    if not update.advanced or days not in settings.STREAK_MILESTONES:
        return
    notify(
        user=user,
        kind=NotificationKind.STREAK_MILESTONE,
        channel=NotificationChannel.EMAIL,
        title=gettext("%(days)d-day streak!") % {"days": days},
        body=ngettext(
            "You have studied %(days)d day in a row. Keep it going!",
            "You have studied %(days)d days in a row. Keep it going!",
            days,
        )
        % {"days": days},
        dedupe_key=f"streak-milestone:{user.pk}:{update.streak.last_active_on.isoformat()}",
        payload={"days": days},
    )


def streaks_reset_broken(*, now: datetime | None = None) -> int:
    """Set ``current`` to 0 on streaks broken in every timezone; one bulk update, no per-row reads.

    A streak is broken once a whole local day passed without activity: ``last_active_on`` before
    local yesterday. The earliest local date on Earth is the one at UTC-12, so a streak last active
    before the day preceding that date is broken wherever its user lives. Streaks broken more
    recently in later zones are already shown as 0 by ``selectors.streak_summary``. The
    compare-and-swap in ``streak_record_activity`` includes ``current``, so a reset racing with new
    activity makes that activity re-read and start again at 1.
    """
    earliest_today = ((now or timezone.now()).astimezone(UTC) - timedelta(hours=12)).date()
    cutoff = earliest_today - timedelta(days=1)
    return Streak.objects.filter(last_active_on__lt=cutoff, current__gt=0).update(
        current=0, updated_at=timezone.now()
    )


def exam_histories_delete_expired(
    *, now: datetime | None = None, retention_days: int | None = None, batch_size: int = 1000
) -> int:
    """Delete histories older than the retention, ``batch_size`` ids at a time (bounded memory).

    Safe to re-run: each round deletes only what is still there.
    """
    days = settings.EXAM_HISTORY_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            ExamHistory.objects.filter(taken_at__lt=cutoff)
            .order_by("taken_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        ExamHistory.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


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


def _daily_reminder(user, streak: dict, now: datetime) -> NotificationDraft | None:
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
    user, activity: dict, streak: dict | None, label: str, now: datetime
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
