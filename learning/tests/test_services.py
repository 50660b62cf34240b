from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from etrainer.api.errors import ApplicationError
from learning.models import ExamHistory
from learning.services.exams import exam_histories_delete_expired, exam_history_record
from learning.tests.factories import ExamHistoryFactory, StreakFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_record_rejects_score_above_max_and_future_taken_at_together(learner):
    with pytest.raises(ApplicationError) as raised:
        exam_history_record(
            user=learner,
            exam_code="TOEIC",
            score=11,
            max_score=10,
            duration_s=60,
            taken_at=datetime.now(UTC) + timedelta(days=1),
        )

    assert raised.value.status == 400
    assert set(raised.value.details["fields"]) == {"score", "taken_at"}
    assert ExamHistory.objects.count() == 0


def test_expired_histories_are_deleted_in_batches_and_rerunning_changes_nothing(
    django_assert_max_num_queries,
):
    # given: 7 histories past a 30-day retention, 2 inside it
    old = ExamHistoryFactory.create_batch(7, taken_at=NOW - timedelta(days=31))
    kept = ExamHistoryFactory.create_batch(2, taken_at=NOW - timedelta(days=29))

    # when: batches of 3 → 3 rounds with rows, 1 empty round, 2 queries per round with rows
    with django_assert_max_num_queries(7):
        deleted = exam_histories_delete_expired(now=NOW, retention_days=30, batch_size=3)

    # then
    assert deleted == len(old)
    assert set(ExamHistory.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert exam_histories_delete_expired(now=NOW, retention_days=30, batch_size=3) == 0


def test_retention_defaults_to_the_setting(settings):
    settings.EXAM_HISTORY_RETENTION_DAYS = 10
    ExamHistoryFactory(taken_at=NOW - timedelta(days=11))
    ExamHistoryFactory(taken_at=NOW - timedelta(days=9))

    assert exam_histories_delete_expired(now=NOW) == 1


def test_reaching_a_milestone_emails_once_however_many_exams_that_day(
    learner, settings, django_capture_on_commit_callbacks
):
    # given: six days in a row up to yesterday
    settings.STREAK_MILESTONES = frozenset({7})
    yesterday = timezone.now().date() - timedelta(days=1)
    StreakFactory(user=learner, current=6, longest=6, last_active_on=yesterday)

    # when: two exams today
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            exam_history_record(
                user=learner, exam_code="TOEIC", score=5, max_score=10, duration_s=60
            )

    # then
    notification = Notification.objects.get(user=learner)
    assert notification.payload == {"days": 7}
    assert notification.dedupe_key == f"streak-milestone:{learner.pk}:{timezone.now().date()}"
    assert [message.subject for message in mail.outbox] == ["7-day streak!"]
