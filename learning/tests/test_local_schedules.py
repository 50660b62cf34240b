"""The hourly jobs in each learner's own time, driven hour by hour: the reminder at local 09:00 once
per local day, the weekly report on local Monday 08:00 of the right local week, streaks broken just
after local midnight. The days chosen span the end of DST in Los Angeles (Sunday 2026-11-01, 02:00
PDT -> 01:00 PST), so UTC-8 is UTC-7 before it."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from jobs.models import JobRun, JobStatus
from learning.models import Streak
from learning.services import notices
from learning.services.notices import (
    daily_reminders_send,
    reported_weeks,
    weekly_reports_generate,
)
from learning.services.streaks import streaks_reset_broken
from learning.tasks import (
    generate_weekly_reports_task,
    send_daily_notifications_task,
    update_streaks_task,
)
from learning.tests.factories import ExamHistoryFactory, StreakFactory
from learning.timezones import zones_in_local_window
from notifications.models import Notification

pytestmark = pytest.mark.django_db

ZONES = {
    "UTC-8": "America/Los_Angeles",
    "UTC": "UTC",
    "UTC+7": "Asia/Ho_Chi_Minh",
    "UTC+14": "Pacific/Kiritimati",
}


def hours(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC hour in [start, end)."""
    return [start + timedelta(hours=n) for n in range(int((end - start).total_seconds() // 3600))]


def at(zone: str, day: date, clock: time) -> datetime:
    """A wall-clock time of a local day, as a UTC instant."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def drive(job, instants: list[datetime]) -> dict[str, list[datetime]]:
    """Run ``job(now=…)`` at each instant; the instants at which each dedupe key was stored."""
    stored: dict[str, list[datetime]] = {}
    seen: set[int] = set()
    for instant in instants:
        job(now=instant)
        for pk, key in Notification.objects.exclude(pk__in=seen).values_list("pk", "dedupe_key"):
            seen.add(pk)
            stored.setdefault(key, []).append(instant)
    return stored


class TestDailyReminderAtLocalNine:
    START = datetime(2026, 10, 30, 0, 0, tzinfo=UTC)
    END = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)

    def test_each_learner_once_per_local_day_exactly_at_local_0900(self):
        # given: learners who last studied on 27 October (each later day is within 7 days)
        zones = {**ZONES, "UTC+5:30": "Asia/Kolkata"}
        learners = {
            label: StreakFactory(
                user=UserFactory(timezone=zone), current=2, last_active_on=date(2026, 10, 27)
            ).user
            for label, zone in zones.items()
        }

        # when: the job runs at every UTC hour of four days
        stored = drive(daily_reminders_send, hours(self.START, self.END))

        # then: one key per local day, stored at the run where the local clock read 09:00 (09:30
        # in Kolkata, +05:30: the hourly run falls on the half hour there)
        for label, user in learners.items():
            zone = ZoneInfo(user.timezone)
            clock = time(9, 30) if label == "UTC+5:30" else time(9)
            expected = {
                f"daily-reminder:{user.pk}:{day.isoformat()}": [at(user.timezone, day, clock)]
                for day in (date(2026, 10, 29) + timedelta(days=n) for n in range(6))
                if self.START <= at(user.timezone, day, clock) < self.END
            }
            mine = {key: runs for key, runs in stored.items() if key.split(":")[1] == str(user.pk)}
            assert mine == expected, label
            assert all(runs[0].astimezone(zone).time() == clock for runs in mine.values())
        # Los Angeles: 09:00 PDT is 16:00 UTC on Saturday, 09:00 PST 17:00 UTC from Sunday on
        los_angeles = learners["UTC-8"].pk
        assert stored[f"daily-reminder:{los_angeles}:2026-10-31"][0].hour == 16
        assert stored[f"daily-reminder:{los_angeles}:2026-11-01"][0].hour == 17

    def test_a_missed_run_is_caught_up_by_the_next_ones_and_never_sent_twice(self):
        # given: a Hanoi learner; 09:00 there is 02:00 UTC
        user = StreakFactory(
            user=UserFactory(timezone="Asia/Ho_Chi_Minh"), last_active_on=date(2026, 10, 29)
        ).user
        day_one = [h for h in hours(self.START, self.START + timedelta(days=1)) if h.hour != 2]
        outage = {datetime(2026, 10, 31, hour, tzinfo=UTC) for hour in (2, 3, 4)}
        day_two = [h for h in hours(self.START + timedelta(days=1), self.END) if h not in outage]

        # when: the 02:00 UTC run is missed on the 30th, and three runs in a row on the 31st
        stored = drive(daily_reminders_send, day_one + day_two)

        # then: the 03:00 run (10:00 local) caught the 30th up; the 31st was missed for longer
        # than the catch-up window (3 hours): no 12:00-or-later reminder, the next day normal
        assert stored == {
            f"daily-reminder:{user.pk}:2026-10-30": [datetime(2026, 10, 30, 3, tzinfo=UTC)],
            f"daily-reminder:{user.pk}:2026-11-01": [datetime(2026, 11, 1, 2, tzinfo=UTC)],
            f"daily-reminder:{user.pk}:2026-11-02": [datetime(2026, 11, 2, 2, tzinfo=UTC)],
        }

    def test_a_learner_who_studied_today_by_their_clock_is_not_reminded(self):
        # given: 19:00 UTC is 09:00 on the 23rd in Kiritimati and 09:00 on the 22nd in Honolulu
        now = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)
        kiritimati_alive = StreakFactory(
            user=UserFactory(timezone="Pacific/Kiritimati"),
            current=6,
            last_active_on=date(2026, 11, 22),
        )
        StreakFactory(
            user=UserFactory(timezone="Pacific/Kiritimati"), last_active_on=date(2026, 11, 23)
        )
        honolulu_alive = StreakFactory(
            user=UserFactory(timezone="Pacific/Honolulu"),
            current=1,
            last_active_on=date(2026, 11, 21),
        )
        StreakFactory(user=UserFactory(timezone="Pacific/Honolulu"), last_active_on=now.date())
        StreakFactory(current=1, last_active_on=date(2026, 11, 21))  # UTC: 19:00 there

        # when
        stored = daily_reminders_send(now=now)

        # then: each with their own local date
        assert stored == 2
        assert dict(Notification.objects.values_list("user_id", "payload")) == {
            kiritimati_alive.user_id: {"date": "2026-11-23", "streak": 6},
            honolulu_alive.user_id: {"date": "2026-11-22", "streak": 1},
        }

    def test_each_text_is_rendered_in_the_learners_language(self, monkeypatch):
        # given: a Vietnamese and an English learner at 09:00 UTC
        vietnamese = StreakFactory(
            user=UserFactory(language="vi"), last_active_on=date(2026, 11, 22)
        )
        english = StreakFactory(user=UserFactory(language="en"), last_active_on=date(2026, 11, 22))
        rendered: list[tuple[str, str | None]] = []

        def recording_gettext(message: str) -> str:
            rendered.append((message, translation.get_language()))
            return translation.gettext(message)

        monkeypatch.setattr(notices, "gettext", recording_gettext)
        active_before = translation.get_language()

        # when
        daily_reminders_send(now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

        # then: each learner's title and body under their language; the job's own is restored
        assert sorted(language for _message, language in rendered) == ["en", "en", "vi", "vi"]
        assert translation.get_language() == active_before
        assert Notification.objects.filter(user__in=[vietnamese.user, english.user]).count() == 2

    @pytest.mark.parametrize("learners", [6, 60])
    @pytest.mark.usefixtures("emails_queued_not_run")
    def test_queries_grow_with_batches_of_the_zones_users_not_with_everyone(self, learners):
        # given: learners at local 09:00 (UTC and Lisbon, UTC+0 in winter), and as many elsewhere
        batch_size = 10
        for n in range(learners):
            zone = "UTC" if n % 2 else "Europe/Lisbon"
            StreakFactory(user=UserFactory(timezone=zone), last_active_on=date(2026, 11, 22))
            StreakFactory(
                user=UserFactory(timezone="Asia/Tokyo"), last_active_on=date(2026, 11, 22)
            )

        # when
        with CaptureQueriesContext(connection) as queries:
            stored = daily_reminders_send(
                now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), batch_size=batch_size
            )

        # then: per batch users, streaks, existing keys, insert (+ its atomic block), one last read
        batches = -(-learners // batch_size)
        assert stored == learners
        assert len(queries) <= batches * (4 + 2) + 1
        assert len(queries) >= batches * 4 + 1

    def test_the_task_reminds_the_learners_at_local_nine_now(
        self, django_capture_on_commit_callbacks
    ):
        """The real entry point and the real clock: the learners of a zone at 09:xx now."""
        # given: Etc/GMT-N is UTC+N (POSIX signs); pick the one at local 09:00 this UTC hour
        now = timezone.now()
        offset = (9 - now.astimezone(UTC).hour) % 24
        offset = offset - 24 if offset > 14 else offset
        zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
        assert now.astimezone(ZoneInfo(zone)).hour == 9
        today = now.astimezone(ZoneInfo(zone)).date()
        due = StreakFactory(
            user=UserFactory(timezone=zone), last_active_on=today - timedelta(days=2)
        )
        # a learner at local 21:xx: twelve hours from 09:00, far outside the catch-up window
        other = offset - 12 if offset >= 0 else offset + 12
        elsewhere = "Etc/GMT" if other == 0 else f"Etc/GMT{-other:+d}"
        assert now.astimezone(ZoneInfo(elsewhere)).hour == 21
        StreakFactory(
            user=UserFactory(timezone=elsewhere), last_active_on=today - timedelta(days=2)
        )

        # when
        with django_capture_on_commit_callbacks(execute=True):
            first = send_daily_notifications_task.apply(kwargs={"trigger": "beat"})
            second = send_daily_notifications_task.apply(kwargs={"trigger": "beat"})

        # then
        assert list(Notification.objects.values_list("dedupe_key", flat=True)) == [
            f"daily-reminder:{due.user_id}:{today.isoformat()}"
        ]
        assert (first.result["items"], second.result["items"]) == (1, 0)


class TestWeeklyReportOnLocalMonday:
    # Monday 2 November reports ISO week 2026-W44: local Monday 26 October to local Monday
    # 2 November; in Los Angeles that is 07:00 UTC (PDT) to 08:00 UTC (PST).
    MONDAY = date(2026, 11, 2)
    PREVIOUS_MONDAY = date(2026, 10, 26)

    def test_each_user_gets_last_local_weeks_report_at_local_monday_0800(self):
        # given: per zone, exams just before and after each local Monday 00:00
        users = {}
        for label, zone in ZONES.items():
            user = users[label] = UserFactory(timezone=zone)
            for taken_at, score in [
                (at(zone, self.PREVIOUS_MONDAY, time.min) - timedelta(minutes=1), 10),  # W43
                (at(zone, self.PREVIOUS_MONDAY, time.min), 60),  # W44
                (at(zone, self.MONDAY, time.min) - timedelta(minutes=1), 80),  # W44
                (at(zone, self.MONDAY, time.min), 100),  # W45
            ]:
                ExamHistoryFactory(user=user, score=score, taken_at=taken_at)

        # when: the job runs at every UTC hour of the week from Thursday 29 October
        start = datetime(2026, 10, 29, 0, 0, tzinfo=UTC)
        stored = drive(weekly_reports_generate, hours(start, start + timedelta(days=7)))

        # then: one report each, at local Monday 08:00, of W44's two exams only
        assert stored == {
            f"weekly-report:{user.pk}:2026-W44": [at(user.timezone, self.MONDAY, time(8))]
            for user in users.values()
        }
        for report in Notification.objects.all():
            assert (report.payload["exams"], report.payload["average_pct"]) == (2, 70.0)
        assert stored[f"weekly-report:{users['UTC+14'].pk}:2026-W44"] == [
            datetime(2026, 11, 1, 18, tzinfo=UTC)  # Sunday evening in UTC
        ]
        assert stored[f"weekly-report:{users['UTC-8'].pk}:2026-W44"] == [
            datetime(2026, 11, 2, 16, tzinfo=UTC)
        ]

    @pytest.mark.parametrize("active_users", [6, 60])
    def test_queries_grow_with_batches_of_the_zones_users(self, active_users):
        # given: users at local Monday 08:00 with two exams last week, and some elsewhere
        batch_size = 10
        now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        for user in UserFactory.create_batch(active_users):
            ExamHistoryFactory.create_batch(2, user=user, taken_at=now - timedelta(days=3))
        for user in UserFactory.create_batch(active_users, timezone="Asia/Tokyo"):
            ExamHistoryFactory(user=user, taken_at=now - timedelta(days=3))

        # when
        with CaptureQueriesContext(connection) as queries:
            stored = weekly_reports_generate(now=now, batch_size=batch_size)

        # then: per batch users, aggregate, streaks, keys, insert (+ atomic), one last read per
        # group of zones sharing the week's UTC span: UTC+0, and UTC+1 and +2 catching up
        batches = -(-active_users // batch_size)
        groups = len(reported_weeks(now))
        assert (stored, groups) == (active_users, 3)
        assert batches * 5 + groups <= len(queries) <= batches * (5 + 2) + groups

    def test_the_task_replays_a_given_hour_once(self, django_capture_on_commit_callbacks):
        # given: a Hanoi learner's exam in W47; Monday 08:00 there is Monday 01:00 UTC
        user = UserFactory(timezone="Asia/Ho_Chi_Minh")
        ExamHistoryFactory(user=user, score=90, taken_at=datetime(2026, 11, 20, 3, tzinfo=UTC))
        as_of = "2026-11-23T01:00:00+00:00"

        # when
        with django_capture_on_commit_callbacks(execute=True):
            first = generate_weekly_reports_task.apply(kwargs={"trigger": "beat", "as_of": as_of})
            second = generate_weekly_reports_task.apply(kwargs={"as_of": as_of})

        # then
        assert list(Notification.objects.values_list("dedupe_key", flat=True)) == [
            f"weekly-report:{user.pk}:2026-W47"
        ]
        assert (first.result["items"], second.result["items"]) == (1, 0)


class TestStreakBreaksAtLocalMidnight:
    LAST_ACTIVE = date(2026, 10, 31)  # the day after is 1 November, 25 hours in Los Angeles

    def test_a_streak_breaks_exactly_after_local_midnight_of_the_day_after_last_activity(self):
        # given
        streaks = {
            label: StreakFactory(
                user=UserFactory(timezone=zone),
                current=3,
                longest=5,
                last_active_on=self.LAST_ACTIVE,
            )
            for label, zone in ZONES.items()
        }

        # when: the job runs every UTC hour from 31 October to 3 November
        broken_at: dict[str, datetime] = {}
        start = datetime(2026, 10, 31, 0, 0, tzinfo=UTC)
        for instant in hours(start, start + timedelta(days=3)):
            streaks_reset_broken(now=instant)
            for label, streak in streaks.items():
                if label not in broken_at and Streak.objects.get(pk=streak.pk).current == 0:
                    broken_at[label] = instant

        # then: at local 00:00 of 2 November, the first moment a whole local day passed idle
        assert broken_at == {
            label: at(zone, date(2026, 11, 2), time.min) for label, zone in ZONES.items()
        }
        assert broken_at["UTC-8"] == datetime(2026, 11, 2, 8, tzinfo=UTC)  # PST
        assert set(Streak.objects.values_list("current", "longest")) == {(0, 5)}

    def test_a_streak_left_by_missed_runs_is_reset_by_the_global_bound(self):
        # given: a Hanoi streak broken at 17:00 UTC on 1 November, and no run for the next days
        streak = StreakFactory(
            user=UserFactory(timezone="Asia/Ho_Chi_Minh"),
            current=3,
            last_active_on=self.LAST_ACTIVE,
        )
        # when: the next run is at 12:00 UTC on 3 November (19:00 there, outside the window)
        reset = streaks_reset_broken(now=datetime(2026, 11, 3, 12, tzinfo=UTC))

        # then
        assert reset == 1
        assert Streak.objects.get(pk=streak.pk).current == 0

    @pytest.mark.parametrize("users", [6, 60])
    def test_queries_grow_with_batches_of_the_zones_users(self, users):
        # given: users at local 00:00 (UTC), half of them with a broken streak
        batch_size = 10
        for n, user in enumerate(UserFactory.create_batch(users)):
            StreakFactory(user=user, current=2, last_active_on=date(2026, 11, 20 + n % 2 * 2))

        # when
        with CaptureQueriesContext(connection) as queries:
            reset = streaks_reset_broken(
                now=datetime(2026, 11, 23, 0, 0, tzinfo=UTC), batch_size=batch_size
            )

        # then: per batch the user ids and one update, one last read, the global update
        assert reset == users // 2
        assert len(queries) == 2 * -(-users // batch_size) + 1 + 1

    def test_the_task_runs_hourly_without_resetting_what_is_not_broken(self):
        # given: idle since the 20th (broken), active yesterday and today, all in UTC
        broken = StreakFactory(current=4, last_active_on=date(2026, 11, 20))
        alive = StreakFactory(current=2, last_active_on=date(2026, 11, 22))
        as_of = "2026-11-23T00:00:00+00:00"

        # when
        first = update_streaks_task.apply(kwargs={"trigger": "beat", "as_of": as_of})
        second = update_streaks_task.apply(kwargs={"as_of": as_of})

        # then
        assert (first.result["items"], second.result["items"]) == (1, 0)
        assert dict(Streak.objects.values_list("pk", "current")) == {broken.pk: 0, alive.pk: 2}
        runs = JobRun.objects.filter(job="update_streaks").order_by("started_at", "pk")
        assert list(runs.values_list("status", "items")) == [
            (JobStatus.SUCCEEDED, 1),
            (JobStatus.SUCCEEDED, 0),
        ]


def test_an_as_of_without_an_offset_fails_the_run_and_changes_nothing():
    streak = StreakFactory(current=4, last_active_on=date(2026, 11, 20))

    with pytest.raises(ValueError, match="as_of needs a UTC offset"):
        update_streaks_task.apply(kwargs={"as_of": "2026-11-23T00:00:00"})

    assert JobRun.objects.get(job="update_streaks").status == JobStatus.FAILED
    assert Streak.objects.get(pk=streak.pk).current == 4


def test_the_zones_at_one_utc_hour_are_grouped_by_their_local_date():
    # 10:00 UTC is 00:00 on the 24th at +14 and 00:00 on the 23rd at -10
    zones = zones_in_local_window(
        datetime(2026, 11, 23, 10, 0, tzinfo=UTC), start=time.min, hours=1
    )

    assert "Pacific/Kiritimati" in zones[date(2026, 11, 24)]
    assert "Pacific/Honolulu" in zones[date(2026, 11, 23)]
    assert "UTC" not in zones[date(2026, 11, 23)] | zones[date(2026, 11, 24)]
