"""Streaks: count a day of activity without row locks, and break the streaks left idle at local
midnight."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from learning.models import Streak
from learning.selectors import user_ids_in_zones
from learning.timezones import local_date, zones_in_local_window

logger = logging.getLogger(__name__)

# Each failed swap means another request just changed the streak; a handful always suffices.
STREAK_UPDATE_ATTEMPTS = 8
# Users per round trip of the hourly reset (their ids, then one bulk update of their streaks).
STREAK_RESET_BATCH_SIZE = 1000


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


def streaks_reset_broken(
    *, now: datetime | None = None, batch_size: int = STREAK_RESET_BATCH_SIZE
) -> int:
    """Set ``current`` to 0 on the streaks broken at the last local midnight; run hourly.

    A streak is broken once a whole local day passed without activity: ``last_active_on`` before
    local yesterday. Each run takes the zones whose local day began in the last
    ``CATCH_UP_HOURS`` (grouped by that new local date) and, per batch of their users, resets in
    one bulk update the streaks not active on the day before. Then the catch-all for runs missed
    longer than that (and for a zone name the zone data no longer knows): streaks last active
    before the day preceding the earliest date on Earth (UTC-12) are broken wherever their user
    lives. Streaks broken and not yet reset are shown as 0 by ``selectors.streak_summary``. The
    compare-and-swap in ``streak_record_activity`` includes ``current``, so a reset racing with
    new activity makes that activity re-read and start again at 1.
    """
    now = now or timezone.now()
    reset = 0
    for today, zones in zones_in_local_window(now, start=time.min).items():
        reset += _reset_in_zones(zones, before=today - timedelta(days=1), batch_size=batch_size)
    earliest_today = (now.astimezone(UTC) - timedelta(hours=12)).date()
    return reset + _reset(Streak.objects.all(), before=earliest_today - timedelta(days=1))


def _reset_in_zones(zones: frozenset[str], *, before: date, batch_size: int) -> int:
    reset, after_pk = 0, None
    while user_ids := user_ids_in_zones(zones=zones, after_pk=after_pk, limit=batch_size):
        after_pk = user_ids[-1]
        reset += _reset(Streak.objects.filter(user_id__in=user_ids), before=before)
    return reset


def _reset(streaks: QuerySet[Streak], *, before: date) -> int:
    return streaks.filter(last_active_on__lt=before, current__gt=0).update(
        current=0, updated_at=timezone.now()
    )
