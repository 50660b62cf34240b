"""Streaks: count a day of activity without row locks, and break the streaks left idle."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from learning.models import Streak
from learning.timezones import local_date

logger = logging.getLogger(__name__)

# Each failed swap means another request just changed the streak; a handful always suffices.
STREAK_UPDATE_ATTEMPTS = 8


@dataclass(frozen=True)
class StreakUpdate:
    streak: Streak
    advanced: bool


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
