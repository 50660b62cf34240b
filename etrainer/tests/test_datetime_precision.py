"""One value per field: a datetime the API answers on a create (or a change) is the value every
later read answers, on every engine. MongoDB stores milliseconds, SQL engines microseconds: the API
answers milliseconds everywhere (``etrainer.api.fields.DateTimeField``)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from notifications.tests.factories import NotificationFactory
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_a_subscription_reads_back_the_datetimes_its_create_answered(learner, learner_client):
    PlanFactory(code="basic")

    created = learner_client.post("/api/subscriptions", {"plan": "basic"}, format="json").json()
    read = learner_client.get(f"/api/subscriptions/{created['id']}").json()

    for field in ("started_at", "ends_at"):
        assert created[field] == read[field], field
    assert datetime.fromisoformat(created["started_at"]).microsecond % 1000 == 0


def test_an_exam_reads_back_the_taken_at_its_create_answered(learner_client):
    taken_at = (timezone.now() - timedelta(hours=1)).replace(microsecond=123456)

    created = learner_client.post(
        "/api/exams/history",
        {
            "exam_code": "toeic-1",
            "score": 7,
            "max_score": 10,
            "duration_s": 600,
            "taken_at": taken_at.isoformat(),
        },
        format="json",
    ).json()
    read = learner_client.get(f"/api/exams/history/{created['id']}").json()

    assert created["taken_at"] == read["taken_at"]
    assert created["created_at"] == read["created_at"]
    assert ".123" in created["taken_at"]
    assert "123456" not in created["taken_at"]


def test_a_notification_reads_back_the_read_at_its_mark_read_answered(learner, learner_client):
    notification = NotificationFactory(user=learner)

    marked = learner_client.post(f"/api/notifications/{notification.pk}/read").json()
    listed = learner_client.get("/api/notifications").json()["results"]

    assert [n["read_at"] for n in listed] == [marked["read_at"]]
    assert [n["created_at"] for n in listed] == [marked["created_at"]]
