from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.tests.factories import UserFactory
from learning.models import Streak
from learning.selectors import streak_summary
from learning.services.streaks import streak_record_activity, streaks_reset_broken
from learning.tests.factories import StreakFactory

pytestmark = pytest.mark.django_db

# Fixed-offset zones (no DST), one per offset the issue names.
ZONES = {
    "UTC-8": "Pacific/Pitcairn",
    "UTC": "UTC",
    "UTC+7": "Asia/Bangkok",
    "UTC+14": "Pacific/Kiritimati",
}
DAY = date(2026, 3, 10)


def local(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    """An aware instant: ``hour:minute`` on ``day`` in ``zone``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


@pytest.mark.parametrize("zone", ZONES.values(), ids=ZONES.keys())
def test_late_evening_and_just_after_midnight_are_two_local_days(zone):
    # given
    user = UserFactory(timezone=zone)

    # when: 23:30 local, then 00:30 local the next day
    first = streak_record_activity(user=user, at=local(zone, DAY, 23, 30))
    second = streak_record_activity(user=user, at=local(zone, DAY + timedelta(days=1), 0, 30))

    # then
    assert first.streak.last_active_on == DAY
    assert (second.streak.current, second.streak.last_active_on) == (2, DAY + timedelta(days=1))
    stored = Streak.objects.get(user=user)
    assert (stored.current, stored.longest) == (2, 2)


@pytest.mark.parametrize("zone", ZONES.values(), ids=ZONES.keys())
def test_midnight_to_23_59_is_one_local_day(zone):
    user = UserFactory(timezone=zone)

    streak_record_activity(user=user, at=local(zone, DAY, 0, 0))
    update = streak_record_activity(user=user, at=local(zone, DAY, 23, 59))

    assert update.advanced is False
    assert (update.streak.current, update.streak.last_active_on) == (1, DAY)


def test_the_same_instant_is_a_different_day_in_each_zone():
    # 2026-03-10 10:30 UTC is 02:30 on the 10th in UTC-8 and 00:30 on the 11th in UTC+14.
    instant = datetime(2026, 3, 10, 10, 30, tzinfo=UTC)
    expected = {
        "Pacific/Pitcairn": DAY,
        "UTC": DAY,
        "Asia/Bangkok": DAY,
        "Pacific/Kiritimati": DAY + timedelta(days=1),
    }

    for zone, day in expected.items():
        user = UserFactory(timezone=zone)
        assert streak_record_activity(user=user, at=instant).streak.last_active_on == day


def test_bangkok_learner_at_23_30_local_has_studied_today_though_utc_is_still_afternoon():
    # given: 23:30 in Bangkok is 16:30 UTC, and 00:30 the next local day is still the same UTC day
    user = UserFactory(timezone="Asia/Bangkok")
    evening = datetime(2026, 3, 10, 16, 30, tzinfo=UTC)
    after_midnight = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)

    # when
    streak_record_activity(user=user, at=evening)
    shown_at_2340 = streak_summary(user=user, now=evening + timedelta(minutes=10))
    update = streak_record_activity(user=user, at=after_midnight)

    # then
    assert shown_at_2340.active_today is True
    assert shown_at_2340.today == DAY
    assert update.streak.current == 2


@pytest.mark.parametrize("zone", ZONES.values(), ids=ZONES.keys())
def test_repeated_activity_in_one_day_changes_nothing(zone):
    user = UserFactory(timezone=zone)

    updates = [streak_record_activity(user=user, at=local(zone, DAY, h)) for h in (8, 12, 22)]

    assert [u.advanced for u in updates] == [True, False, False]
    stored = Streak.objects.get(user=user)
    assert (stored.current, stored.longest, stored.last_active_on) == (1, 1, DAY)


@pytest.mark.parametrize("zone", ZONES.values(), ids=ZONES.keys())
def test_a_missed_day_restarts_at_one_and_longest_keeps_the_max(zone):
    # given: three days in a row
    user = UserFactory(timezone=zone)
    for offset in range(3):
        streak_record_activity(user=user, at=local(zone, DAY + timedelta(days=offset), 20))

    # when: day 4 missed, activity on day 5 (just after local midnight)
    update = streak_record_activity(user=user, at=local(zone, DAY + timedelta(days=4), 0, 5))

    # then
    assert (update.streak.current, update.streak.longest) == (1, 3)
    assert update.streak.last_active_on == DAY + timedelta(days=4)


def test_back_dated_activity_does_not_move_the_streak():
    user = UserFactory()
    streak_record_activity(user=user, at=local("UTC", DAY, 10))

    update = streak_record_activity(user=user, at=local("UTC", DAY - timedelta(days=1), 10))

    assert update.advanced is False
    assert (update.streak.current, update.streak.last_active_on) == (1, DAY)


def test_a_lost_compare_and_swap_rereads_and_does_not_count_the_day_twice(monkeypatch):
    # given: this request read the streak before another request counted today
    streak = StreakFactory(current=3, longest=3, last_active_on=DAY - timedelta(days=1))
    stale = Streak.objects.get(pk=streak.pk)
    Streak.objects.filter(pk=streak.pk).update(current=4, longest=4, last_active_on=DAY)
    monkeypatch.setattr(Streak.objects, "get_or_create", lambda **kwargs: (stale, False))

    # when
    update = streak_record_activity(user=streak.user, at=local("UTC", DAY, 18))

    # then: the swap failed, the re-read saw today already counted
    assert update.advanced is False
    stored = Streak.objects.get(pk=streak.pk)
    assert (stored.current, stored.longest, stored.last_active_on) == (4, 4, DAY)


def test_summary_shows_a_broken_streak_as_zero_in_the_users_timezone():
    # given: last active on the 10th (Kiritimati time)
    user = UserFactory(timezone="Pacific/Kiritimati")
    StreakFactory(user=user, current=5, longest=9, last_active_on=DAY)

    # when: the 11th ends at 10:00 UTC on the 11th in UTC+14
    before = streak_summary(user=user, now=datetime(2026, 3, 11, 9, 59, tzinfo=UTC))
    after = streak_summary(user=user, now=datetime(2026, 3, 11, 10, 0, tzinfo=UTC))

    # then
    tomorrow = DAY + timedelta(days=1)
    assert (before.current, before.today, before.active_today) == (5, tomorrow, False)
    assert (after.current, after.longest, after.today) == (0, 9, DAY + timedelta(days=2))


def test_summary_of_a_user_without_activity():
    summary = streak_summary(user=UserFactory())

    assert (summary.current, summary.longest, summary.last_active_on) == (0, 0, None)


@pytest.mark.parametrize(
    ("now", "reset_days"),
    [
        # 11:00 UTC: it is still the 9th at UTC-12, where the 8th is yesterday
        (datetime(2026, 3, 10, 11, 0, tzinfo=UTC), [3]),
        # 12:00 UTC: the 10th has begun everywhere, so the 8th is broken everywhere
        (datetime(2026, 3, 10, 12, 0, tzinfo=UTC), [3, 2]),
    ],
)
def test_reset_broken_zeroes_only_streaks_broken_in_every_timezone(now, reset_days):
    # given: streaks last active 3, 2 and 1 days before the 10th
    streaks = {
        days: StreakFactory(current=4, longest=6, last_active_on=DAY - timedelta(days=days))
        for days in (3, 2, 1)
    }

    # when
    reset = streaks_reset_broken(now=now)

    # then
    assert reset == len(reset_days)
    for days, streak in streaks.items():
        stored = Streak.objects.get(pk=streak.pk)
        assert (stored.current, stored.longest) == ((0 if days in reset_days else 4), 6)
    assert streaks_reset_broken(now=now) == 0
