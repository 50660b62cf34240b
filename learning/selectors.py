"""Reads of the learning app."""

from collections.abc import Collection, Mapping
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

    The stored ``current`` is only reset by activity or the hourly job; once a whole local day
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


def streaks_by_user(*, user_ids: list) -> dict:
    """The streak rows of these users, by user id, in one query."""
    rows = Streak.objects.filter(user_id__in=user_ids).values(
        "user_id", "current", "longest", "last_active_on"
    )
    return {row["user_id"]: row for row in rows}


def users_in_zones(
    *, zones: Collection[str], after_pk=None, limit: int, role: str | None = None
) -> list:
    """Up to ``limit`` active accounts whose timezone is one of ``zones`` (optionally of one
    role), in primary-key order; pass the last ``pk`` seen as ``after_pk`` for the next batch.

    One collection, one indexed filter (``accounts_user_tz_idx``): no join, no ``$lookup``.
    """
    users = get_user_model().objects.filter(timezone__in=sorted(zones), is_active=True)
    if role is not None:
        users = users.filter(role=role)
    if after_pk is not None:
        users = users.filter(pk__gt=after_pk)
    fields = ("pk", "email", "first_name", "timezone", "language", "role")
    return list(users.order_by("pk").only(*fields)[:limit])


def user_ids_in_zones(*, zones: Collection[str], after_pk=None, limit: int) -> list:
    """Up to ``limit`` ids of accounts (active or not) in ``zones``, in order after ``after_pk``."""
    users = get_user_model().objects.filter(timezone__in=sorted(zones))
    if after_pk is not None:
        users = users.filter(pk__gt=after_pk)
    return list(users.order_by("pk").values_list("pk", flat=True)[:limit])


def exam_activity_by_user(
    *, user_ids: list, taken_after: datetime, taken_before: datetime
) -> dict[Any, Mapping[str, Any]]:
    """Per user among ``user_ids`` with exams taken in [taken_after, taken_before): ``exams``,
    ``average_pct`` and ``best_pct`` (score as a percentage of max_score), in one grouped query on
    the ``(user, taken_at)`` index.

    The score is cast to a float before dividing: integer division on SQL would truncate.
    """
    percent = Cast("score", FloatField()) * 100 / F("max_score")
    rows = (
        ExamHistory.objects.filter(
            user_id__in=user_ids, taken_at__gte=taken_after, taken_at__lt=taken_before
        )
        .values("user_id")
        .annotate(exams=Count("pk"), average_pct=Avg(percent), best_pct=Max(percent))
        .order_by()
    )
    return {row["user_id"]: row for row in rows}
