"""The reminder and report jobs: who gets what, once (a second run stores and sends nothing), and
in batches (queries grow with N / batch, not N). Local-time behaviour across zones, hour by hour:
test_local_schedules.py."""

import time
from datetime import UTC, datetime, timedelta
from math import ceil

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import mail

from accounts.tests.factories import StaffFactory, UserFactory
from jobs.models import JobRun, JobStatus
from learning.services.notices import reported_weeks, weekly_reports_generate
from learning.tasks import generate_weekly_reports_task, send_daily_notifications_task
from learning.tests.factories import ExamHistoryFactory, StreakFactory
from notifications.models import Notification, NotificationChannel, NotificationKind
from notifications.realtime import user_group

pytestmark = pytest.mark.django_db

# Queries of the job machinery itself: close stale runs, insert the JobRun row, finish it.
MACHINERY_QUERIES = 3
# The atomic block around each bulk insert: a savepoint and its release on SQL (inside the test's
# transaction), the transaction's start and commit on MongoDB.
ATOMIC_QUERIES = 2
# A Monday, 2026-W48; the week reported is 2026-W47 (16 to 23 November).
MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# The daily run whose local 09:00 is that of the learners in UTC (the factories' default zone).
NINE_UTC = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AS_OF = NINE_UTC.isoformat()


def _runs(job: str) -> list[tuple[str, int]]:
    return list(
        JobRun.objects.filter(job=job).order_by("started_at", "pk").values_list("status", "items")
    )


def _keys() -> set[str]:
    return set(Notification.objects.values_list("dedupe_key", flat=True))


@pytest.fixture
def pushes_to(redis_server):
    """Subscribe to a user's WebSocket group on the channel layer's Redis; yields a reader."""
    client = redis.Redis.from_url(settings.CHANNEL_LAYER_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)

    def subscribe(user):
        pubsub.subscribe(f"{settings.CHANNEL_LAYER_PREFIX}__group__{user_group(user.pk)}")
        return pubsub

    yield subscribe
    pubsub.close()
    client.close()


def _next_push(pubsub, wait: float = 1.0):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.05)
        if message is not None:
            return get_channel_layer().deserialize(message["data"])
    return None


class TestSendDailyNotifications:
    def test_reminds_recent_learners_who_have_not_studied_today_once(
        self, django_capture_on_commit_callbacks
    ):
        # given: the run of 09:00 UTC, local 09:00 of these (UTC) learners
        today = NINE_UTC.date()
        on_a_streak = StreakFactory(current=3, longest=3, last_active_on=today - timedelta(days=1))
        lapsed = StreakFactory(current=0, longest=8, last_active_on=today - timedelta(days=4))
        StreakFactory(current=2, last_active_on=today)  # studied today
        StreakFactory(current=0, longest=1, last_active_on=today - timedelta(days=30))  # gone
        StreakFactory(user=StaffFactory(), current=1, last_active_on=today - timedelta(days=1))
        StreakFactory(
            user=UserFactory(is_active=False), current=1, last_active_on=today - timedelta(days=1)
        )
        UserFactory()  # never studied

        # when
        with django_capture_on_commit_callbacks(execute=True):
            first = send_daily_notifications_task.apply(kwargs={"trigger": "beat", "as_of": AS_OF})
        with django_capture_on_commit_callbacks(execute=True):
            second = send_daily_notifications_task.apply(kwargs={"trigger": "beat", "as_of": AS_OF})

        # then: one email each, stored and sent once
        assert _keys() == {
            f"daily-reminder:{on_a_streak.user_id}:{today.isoformat()}",
            f"daily-reminder:{lapsed.user_id}:{today.isoformat()}",
        }
        assert set(Notification.objects.values_list("kind", "channel")) == {
            (NotificationKind.DAILY_REMINDER, NotificationChannel.EMAIL)
        }
        assert sorted((message.to[0], message.subject) for message in mail.outbox) == sorted(
            [
                (on_a_streak.user.email, "Keep your 3-day streak going"),
                (lapsed.user.email, "Time for today's practice"),
            ]
        )
        bodies = {message.to[0]: message.body for message in mail.outbox}
        assert "studied 3 days in a row" in bodies[on_a_streak.user.email]
        assert "A short exam today" in bodies[lapsed.user.email]
        assert not Notification.objects.filter(sent_at__isnull=True).exists()
        assert (first.result["items"], second.result["items"]) == (2, 0)
        assert _runs("send_daily_notifications") == [
            (JobStatus.SUCCEEDED, 2),
            (JobStatus.SUCCEEDED, 0),
        ]

    @pytest.mark.parametrize("learners", [5, 50])
    @pytest.mark.usefixtures("emails_queued_not_run")
    def test_queries_grow_with_batches_not_learners(self, learners, django_assert_max_num_queries):
        # given
        batch_size = 10
        yesterday = NINE_UTC.date() - timedelta(days=1)
        StreakFactory.create_batch(learners, current=1, last_active_on=yesterday)

        # when: per batch learners of the zones at 09:xx, streaks, existing keys, one insert;
        # then the empty read
        per_batch = 4 + ATOMIC_QUERIES
        bound = MACHINERY_QUERIES + per_batch * ceil(learners / batch_size) + 1
        with django_assert_max_num_queries(bound):
            result = send_daily_notifications_task.apply(
                kwargs={"batch_size": batch_size, "as_of": AS_OF}
            )

        # then: 5 learners → 10 queries, 50 → 34
        assert result.result["items"] == learners == Notification.objects.count()


class TestGenerateWeeklyReports:
    def test_reports_last_weeks_exams_and_streak_per_active_user(self):
        # given
        week_start = MONDAY_0800.replace(hour=0) - timedelta(days=7)
        learner = UserFactory()
        for score, max_score in [(50, 100), (30, 40), (90, 100)]:
            ExamHistoryFactory(
                user=learner, score=score, max_score=max_score, taken_at=week_start + timedelta(1)
            )
        ExamHistoryFactory(user=learner, score=10, taken_at=week_start - timedelta(minutes=1))
        ExamHistoryFactory(user=learner, score=100, taken_at=MONDAY_0800 - timedelta(hours=1))
        StreakFactory(user=learner, current=4, longest=11, last_active_on=MONDAY_0800.date())
        quiet = UserFactory()
        ExamHistoryFactory(user=quiet, taken_at=week_start - timedelta(days=2))
        one_exam = ExamHistoryFactory(score=64, taken_at=week_start)  # no streak row

        # when
        stored = weekly_reports_generate(now=MONDAY_0800)

        # then
        assert stored == 2
        report = Notification.objects.get(user=learner)
        assert (report.kind, report.channel) == (
            NotificationKind.WEEKLY_REPORT,
            NotificationChannel.IN_APP,
        )
        assert report.dedupe_key == f"weekly-report:{learner.pk}:2026-W47"
        assert report.title == "Your week 2026-W47: 3 exams, average 71.7%"
        assert report.payload == {
            "week": "2026-W47",
            "exams": 3,
            "average_pct": 71.7,
            "best_pct": 90.0,
            "streak": 4,
            "longest_streak": 11,
        }
        assert "Best score: 90%" in report.body
        other = Notification.objects.get(user=one_exam.user)
        assert other.title == "Your week 2026-W47: 1 exam, average 64%"
        assert (other.payload["streak"], other.payload["longest_streak"]) == (0, 0)

    def test_counts_of_one_read_in_the_singular(self):
        # given: one exam last week and a streak of one day, longest one day
        learner = UserFactory()
        ExamHistoryFactory(user=learner, score=70, taken_at=MONDAY_0800 - timedelta(days=2))
        StreakFactory(user=learner, current=1, longest=1, last_active_on=MONDAY_0800.date())

        # when
        weekly_reports_generate(now=MONDAY_0800)

        # then
        report = Notification.objects.get(user=learner)
        assert "Exams taken: 1\n" in report.body
        assert report.body.endswith("Current streak: 1 day (longest: 1 day)")

    def test_counts_above_one_read_in_the_plural(self):
        learner = UserFactory()
        ExamHistoryFactory(user=learner, score=70, taken_at=MONDAY_0800 - timedelta(days=2))
        StreakFactory(user=learner, current=2, longest=5, last_active_on=MONDAY_0800.date())

        weekly_reports_generate(now=MONDAY_0800)

        report = Notification.objects.get(user=learner)
        assert report.body.endswith("Current streak: 2 days (longest: 5 days)")

    def test_the_job_stores_each_report_once_and_sends_no_email(
        self, django_capture_on_commit_callbacks
    ):
        # given: exams an hour before Monday 00:00 UTC are last week's
        this_monday = MONDAY_0800.replace(hour=0)
        users = UserFactory.create_batch(3)
        for user in users:
            ExamHistoryFactory(user=user, taken_at=this_monday - timedelta(hours=1))
        UserFactory(is_active=False)
        ExamHistoryFactory(user__is_active=False, taken_at=this_monday - timedelta(hours=1))

        # when
        with django_capture_on_commit_callbacks(execute=True):
            first = generate_weekly_reports_task.apply(
                kwargs={"trigger": "beat", "as_of": MONDAY_0800.isoformat()}
            )
        with django_capture_on_commit_callbacks(execute=True):
            second = generate_weekly_reports_task.apply(
                kwargs={"trigger": "beat", "as_of": MONDAY_0800.isoformat()}
            )

        # then
        year, week, _ = (this_monday - timedelta(days=7)).isocalendar()
        assert _keys() == {f"weekly-report:{user.pk}:{year}-W{week:02d}" for user in users}
        assert mail.outbox == []
        assert (first.result["items"], second.result["items"]) == (3, 0)
        assert _runs("generate_weekly_reports") == [
            (JobStatus.SUCCEEDED, 3),
            (JobStatus.SUCCEEDED, 0),
        ]

    def test_a_stored_report_is_pushed_to_its_user_once(
        self, pushes_to, django_capture_on_commit_callbacks
    ):
        # given
        learner = UserFactory()
        ExamHistoryFactory(user=learner, taken_at=MONDAY_0800 - timedelta(days=2))
        pubsub = pushes_to(learner)

        # when
        with django_capture_on_commit_callbacks(execute=True):
            weekly_reports_generate(now=MONDAY_0800)
        first = _next_push(pubsub)
        with django_capture_on_commit_callbacks(execute=True):
            weekly_reports_generate(now=MONDAY_0800)

        # then
        assert first["notification"]["title"] == "Your week 2026-W47: 1 exam, average 70%"
        assert _next_push(pubsub, wait=0.2) is None

    @pytest.mark.parametrize("active_users", [5, 50])
    def test_queries_grow_with_batches_not_users(self, active_users, django_assert_max_num_queries):
        # given: two exams each last week
        batch_size = 10
        last_week = MONDAY_0800 - timedelta(days=3)
        for user in UserFactory.create_batch(active_users):
            ExamHistoryFactory.create_batch(2, user=user, taken_at=last_week)

        # when: per batch users, the grouped aggregate, streaks, existing keys, one insert; the
        # empty read that ends each group of zones (UTC+0, and UTC+1, +2 catching up)
        per_batch = 5 + ATOMIC_QUERIES
        bound = per_batch * ceil(active_users / batch_size) + len(reported_weeks(MONDAY_0800))
        with django_assert_max_num_queries(bound):
            stored = weekly_reports_generate(now=MONDAY_0800, batch_size=batch_size)

        # then: 5 users → 10 queries, 50 → 38
        assert stored == active_users == Notification.objects.count()
