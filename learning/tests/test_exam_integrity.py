"""Exam recording under hostile input (issue 17 items 7 and 10): bounded ``taken_at``, nothing
stored by a request that failed, and streaks that count the days the server saw activity."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import OperationalError
from django.db.models.signals import pre_save
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from learning.models import ExamHistory, Streak
from learning.services.exams import exam_history_record
from notifications.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/exams/history"
VALID = {"exam_code": "IELTS-R1", "score": 31, "max_score": 40, "duration_s": 3600}


@pytest.mark.parametrize("taken_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00-05:00"])
def test_an_exam_taken_in_year_1_is_400_and_nothing_is_stored(taken_at):
    client = bearer_client(UserFactory(timezone="America/New_York"))

    response = client.post(URL, {**VALID, "taken_at": taken_at}, format="json")

    assert response.status_code == 400, response.content
    assert "taken_at" in response.json()["error"]["details"]["fields"]
    assert not ExamHistory.objects.exists()
    assert not Streak.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_request_that_fails_after_storing_the_exam_leaves_no_exam(learner_client):
    # given: the database goes away between the exam's INSERT and the streak's (injected at the
    # database boundary: a pre_save receiver raising what a lost connection raises)
    def connection_lost(sender, **kwargs):
        raise OperationalError("connection lost (injected)")

    pre_save.connect(connection_lost, sender=Streak, weak=False)
    try:
        # when
        response = learner_client.post(URL, VALID, format="json")
    finally:
        pre_save.disconnect(connection_lost, sender=Streak)

    # then: a 503 in the envelope, and the exam written before the failure is gone too
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "service_unavailable"
    assert not ExamHistory.objects.exists()
    assert not Streak.objects.exists()


def test_taken_at_older_than_the_window_is_400(learner_client, settings):
    settings.EXAM_TAKEN_AT_MAX_AGE_DAYS = 3
    old = timezone.now() - timedelta(days=3, minutes=1)

    response = learner_client.post(URL, {**VALID, "taken_at": old.isoformat()}, format="json")

    assert response.status_code == 400
    assert "taken_at" in response.json()["error"]["details"]["fields"]
    assert not ExamHistory.objects.exists()


def test_taken_at_inside_the_window_is_stored_as_reported(learner_client, settings):
    settings.EXAM_TAKEN_AT_MAX_AGE_DAYS = 3
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2, hours=5)

    response = learner_client.post(URL, {**VALID, "taken_at": reported.isoformat()}, format="json")

    assert response.status_code == 201, response.content
    assert ExamHistory.objects.get().taken_at == reported


def test_eight_back_dated_exams_at_once_make_a_one_day_streak_and_no_milestone(
    learner, learner_client, settings
):
    settings.STREAK_MILESTONES = frozenset({7})
    now = timezone.now()

    for days_ago in range(7, -1, -1):
        taken_at = (now - timedelta(days=days_ago)).isoformat()
        response = learner_client.post(URL, {**VALID, "taken_at": taken_at}, format="json")
        assert response.status_code == 201, response.content

    streak = Streak.objects.get(user=learner)
    assert (streak.current, streak.longest) == (1, 1)
    assert not Notification.objects.filter(kind="streak_milestone").exists()
    assert ExamHistory.objects.count() == 8


@pytest.mark.parametrize("order", [("yesterday", "today"), ("today", "yesterday")])
def test_the_streak_does_not_depend_on_the_order_of_recording(order):
    user = UserFactory(timezone="Asia/Bangkok")
    client = bearer_client(user)
    now = timezone.now()
    taken = {"today": now, "yesterday": now - timedelta(days=1)}

    for name in order:
        client.post(URL, {**VALID, "taken_at": taken[name].isoformat()}, format="json")

    streak = client.get("/api/streak").json()
    assert (streak["current"], streak["active_today"]) == (1, True)


def test_the_streak_counts_the_day_the_server_received_it_in_the_learners_zone():
    # given: a learner in UTC+7 whose streak was last active on their local yesterday
    user = UserFactory(timezone="Asia/Bangkok")
    local_today = timezone.now().astimezone(timezone.get_fixed_timezone(7 * 60)).date()
    Streak.objects.create(
        user=user, current=4, longest=4, last_active_on=local_today - timedelta(days=1)
    )

    # when: an exam reported as taken two days ago arrives now
    exam = exam_history_record(user=user, **VALID, taken_at=timezone.now() - timedelta(days=2))

    # then: today (Bangkok) is counted, the exam keeps its reported time
    streak = Streak.objects.get(user=user)
    assert (streak.current, streak.last_active_on) == (5, local_today)
    assert exam.taken_at < timezone.now() - timedelta(days=1)
