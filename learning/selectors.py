"""Reads of the learning app."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from etrainer.api.errors import ApplicationError, ErrorCode
from learning.models import ExamHistory, Streak
from learning.timezones import local_date


@dataclass(frozen=True)
class StreakSummary:
    current: int
    longest: int
    last_active_on: date | None
    today: date
    active_today: bool


def exam_history_list(
    *,
    user,
    exam_code: str | None = None,
    taken_after: datetime | None = None,
    taken_before: datetime | None = None,
) -> QuerySet[ExamHistory]:
    """The user's histories; the caller orders (cursor pagination on ``-taken_at``)."""
    histories = ExamHistory.objects.filter(user=user)
    if exam_code:
        histories = histories.filter(exam_code=exam_code)
    if taken_after is not None:
        histories = histories.filter(taken_at__gte=taken_after)
    if taken_before is not None:
        histories = histories.filter(taken_at__lt=taken_before)
    return histories


def exam_history_get(*, user, exam_id: str) -> ExamHistory:
    """One of the user's histories; someone else's, or a malformed id, is simply not found."""
    try:
        return ExamHistory.objects.get(pk=exam_id, user=user)
    except (ExamHistory.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ApplicationError(ErrorCode.NOT_FOUND, "Exam history not found.", status=404) from None


def streak_summary(*, user, now: datetime | None = None) -> StreakSummary:
    """The streak as the user sees it today, in their timezone.

    The stored ``current`` is only reset by activity or the nightly job; once a whole local day
    has passed without activity the streak is broken, so it is shown as 0 even before the job ran.
    """
    today = local_date(now or timezone.now(), user.timezone)
    streak = Streak.objects.filter(user=user).first()
    if streak is None or streak.last_active_on is None:
        return StreakSummary(0, streak.longest if streak else 0, None, today, False)
    alive = streak.last_active_on >= today - timedelta(days=1)
    return StreakSummary(
        current=streak.current if alive else 0,
        longest=streak.longest,
        last_active_on=streak.last_active_on,
        today=today,
        active_today=streak.last_active_on >= today,
    )
