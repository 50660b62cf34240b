"""Recording exam results (with the streak and its milestone email), and their retention."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically
from learning.models import ExamHistory
from learning.services.streaks import StreakUpdate, streak_record_activity
from notifications.models import NotificationChannel, NotificationKind
from notifications.services import notify


def _invalid(fields: dict[str, list[str]]) -> ApplicationError:
    return ApplicationError(
        ErrorCode.VALIDATION_ERROR, gettext("The request is invalid."), details={"fields": fields}
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


def _celebrate_milestone(*, user, update: StreakUpdate) -> None:
    """An email on reaching a milestone (7, 30, … days); the key makes it once per milestone day."""
    days, day = update.streak.current, update.streak.last_active_on
    if not update.advanced or day is None or days not in settings.STREAK_MILESTONES:
        return
    with translation.override(user.language):  # stored as written: in the learner's language
        title = gettext("%(days)d-day streak!") % {"days": days}
        body = ngettext(
            "You have studied %(days)d day in a row. Keep it going!",
            "You have studied %(days)d days in a row. Keep it going!",
            days,
        ) % {"days": days}
    notify(
        user=user,
        kind=NotificationKind.STREAK_MILESTONE,
        channel=NotificationChannel.EMAIL,
        title=title,
        body=body,
        dedupe_key=f"streak-milestone:{user.pk}:{day.isoformat()}",
        payload={"days": days},
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
