"""Reads of the learning app."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, FloatField, Max, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

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
        raise ApplicationError(
            ErrorCode.NOT_FOUND, _("Exam history not found."), status=404
        ) from None


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


def streaks_last_active_between(
    *, first_day: date, last_day: date, after_pk=None, limit: int
) -> list[Mapping[str, Any]]:
    """Up to ``limit`` streaks last active in [first_day, last_day], in primary-key order.

    Keyset pagination: pass the last ``pk`` seen as ``after_pk`` for the next batch. The range
    uses the streak index on ``last_active_on``.
    """
    streaks = Streak.objects.filter(last_active_on__gte=first_day, last_active_on__lte=last_day)
    if after_pk is not None:
        streaks = streaks.filter(pk__gt=after_pk)
    return list(streaks.order_by("pk").values("pk", "user_id", "current", "last_active_on")[:limit])


def streaks_by_user(*, user_ids: list) -> dict:
    """The streak rows of these users, by user id, in one query."""
    rows = Streak.objects.filter(user_id__in=user_ids).values(
        "user_id", "current", "longest", "last_active_on"
    )
    return {row["user_id"]: row for row in rows}


def users_active_in_bulk(*, user_ids: list, role: str | None = None) -> dict:
    """Active accounts among ``user_ids`` (optionally of one role), by id, in one query."""
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True)
    if role is not None:
        users = users.filter(role=role)
    return {user.pk: user for user in users.only("pk", "email", "first_name", "timezone", "role")}


def exam_activity_by_user(
    *, taken_after: datetime, taken_before: datetime, after_user_id=None, limit: int
) -> list[Mapping[str, Any]]:
    """Per user with exams taken in [taken_after, taken_before): ``exams``, ``average_pct`` and
    ``best_pct`` (score as a percentage of max_score) — one grouped query for up to ``limit``
    users in id order; pass the last ``user_id`` seen as ``after_user_id`` for the next batch.

    The score is cast to a float before dividing: integer division on SQL would truncate.
    """
    percent = Cast("score", FloatField()) * 100 / F("max_score")
    histories = ExamHistory.objects.filter(taken_at__gte=taken_after, taken_at__lt=taken_before)
    if after_user_id is not None:
        histories = histories.filter(user_id__gt=after_user_id)
    return list(
        histories.values("user_id")
        .annotate(exams=Count("pk"), average_pct=Avg(percent), best_pct=Max(percent))
        .order_by("user_id")[:limit]
    )
