"""The learning app's scheduled jobs: effect, idempotency (a second run changes nothing) and
batching (queries grow with N / batch, not N)."""

from datetime import UTC, datetime, time, timedelta
from math import ceil

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from jobs.models import JobRun, JobStatus
from learning.models import ExamHistory, Streak
from learning.tasks import cleanup_exam_histories_task, update_streaks_task
from learning.tests.factories import ExamHistoryFactory, StreakFactory
from learning.timezones import zones_in_local_window

pytestmark = pytest.mark.django_db

# Queries of the job machinery itself: close stale runs, insert the JobRun row, finish it.
MACHINERY_QUERIES = 3


def _runs(job: str) -> list[tuple[str, int]]:
    return list(
        JobRun.objects.filter(job=job).order_by("started_at", "pk").values_list("status", "items")
    )


class TestCleanupExamHistories:
    def test_deletes_only_histories_older_than_the_retention_and_a_second_run_changes_nothing(
        self, settings
    ):
        # given
        settings.EXAM_HISTORY_RETENTION_DAYS = 30
        now = timezone.now()
        old = ExamHistoryFactory.create_batch(3, taken_at=now - timedelta(days=31))
        kept = [
            ExamHistoryFactory(taken_at=now - timedelta(days=29)),
            ExamHistoryFactory(taken_at=now - timedelta(hours=1)),
        ]

        # when
        first = cleanup_exam_histories_task.apply(kwargs={"trigger": "beat", "batch_size": 2})
        second = cleanup_exam_histories_task.apply(kwargs={"trigger": "beat", "batch_size": 2})

        # then
        assert first.result["items"] == len(old)
        assert second.result["items"] == 0
        remaining = set(ExamHistory.objects.values_list("pk", flat=True))
        assert remaining == {history.pk for history in kept}
        assert _runs("cleanup_exam_histories") == [
            (JobStatus.SUCCEEDED, 3),
            (JobStatus.SUCCEEDED, 0),
        ]

    @pytest.mark.parametrize("expired", [5, 50])
    def test_queries_grow_with_batches_not_rows(
        self, expired, settings, django_assert_max_num_queries
    ):
        # given
        settings.EXAM_HISTORY_RETENTION_DAYS = 30
        batch_size = 10
        user = UserFactory()
        old = timezone.now() - timedelta(days=40)
        ExamHistoryFactory.create_batch(expired, user=user, taken_at=old)

        # when: per batch one read of ids and one delete, then the empty read that ends it
        bound = MACHINERY_QUERIES + 2 * ceil(expired / batch_size) + 1
        with django_assert_max_num_queries(bound):
            result = cleanup_exam_histories_task.apply(kwargs={"batch_size": batch_size})

        # then: 5 rows → 6 queries, 50 rows → 14
        assert result.result["items"] == expired
        assert not ExamHistory.objects.exists()


class TestUpdateStreaks:
    def test_breaks_streaks_inactive_before_yesterday_everywhere_and_a_second_run_changes_nothing(
        self,
    ):
        # given: three days ago is before "yesterday" in every timezone; yesterday (UTC) is not
        # yet broken anywhere, and today certainly is not
        today = timezone.now().astimezone(UTC).date()
        broken = StreakFactory(current=5, longest=9, last_active_on=today - timedelta(days=3))
        alive = StreakFactory(current=2, longest=2, last_active_on=today - timedelta(days=1))
        active_today = StreakFactory(current=4, longest=4, last_active_on=today)

        # when
        first = update_streaks_task.apply(kwargs={"trigger": "beat"})
        second = update_streaks_task.apply(kwargs={"trigger": "beat"})

        # then
        assert (first.result["items"], second.result["items"]) == (1, 0)
        streaks = {row.pk: (row.current, row.longest) for row in Streak.objects.all()}
        assert streaks == {broken.pk: (0, 9), alive.pk: (2, 2), active_today.pk: (4, 4)}
        assert _runs("update_streaks") == [(JobStatus.SUCCEEDED, 1), (JobStatus.SUCCEEDED, 0)]

    @pytest.mark.parametrize("broken", [5, 50])
    def test_one_bulk_update_whatever_the_number_of_streaks(
        self, broken, django_assert_max_num_queries
    ):
        # given: streaks idle for long, of users whose local day began hours ago (UTC at noon)
        now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        long_ago = now.date() - timedelta(days=10)
        StreakFactory.create_batch(broken, current=3, longest=3, last_active_on=long_ago)

        # when: the users of the zones at local 00:xx-02:xx (none here; one read per local date)
        # and the catch-all bulk update of the streaks broken everywhere
        dates = len(zones_in_local_window(now, start=time.min))
        with django_assert_max_num_queries(MACHINERY_QUERIES + dates + 1):
            result = update_streaks_task.apply(kwargs={"as_of": now.isoformat()})

        # then
        assert result.result["items"] == broken
        assert not Streak.objects.filter(current__gt=0).exists()
