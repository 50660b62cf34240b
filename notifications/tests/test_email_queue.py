"""The request that triggers an email returns before the email is sent: the send is queued."""

import base64
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from learning.tests.factories import StreakFactory
from notifications.models import Notification, NotificationChannel, NotificationKind
from notifications.tasks import send_email_notification_task

TASK = "notifications.tasks.send_email_notification_task"


def queued_messages(broker) -> list[tuple[str, list]]:
    """(task name, args) of each message waiting in Celery's default queue."""
    messages = []
    for raw in broker.lrange("celery", 0, -1):
        envelope = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        messages.append((envelope["headers"]["task"], args))
    return messages


@pytest.mark.django_db(transaction=True)
def test_reaching_a_streak_milestone_queues_the_email_and_returns_before_it_is_sent(
    celery_redis_broker, learner, learner_client, settings
):
    # given: six days in a row up to yesterday; today's exam makes seven, a milestone
    settings.STREAK_MILESTONES = frozenset({7})
    yesterday = timezone.now().date() - timedelta(days=1)
    StreakFactory(user=learner, current=6, longest=6, last_active_on=yesterday)

    # when
    response = learner_client.post(
        "/api/exams/history",
        {"exam_code": "IELTS-L2", "score": 30, "max_score": 40, "duration_s": 1800},
        format="json",
    )

    # then: the row is stored and its email waits in the broker, unsent
    assert response.status_code == 201
    notification = Notification.objects.get(user=learner)
    assert (notification.kind, notification.channel) == (
        NotificationKind.STREAK_MILESTONE,
        NotificationChannel.EMAIL,
    )
    assert notification.sent_at is None
    assert mail.outbox == []
    assert queued_messages(celery_redis_broker) == [(TASK, [str(notification.pk)])]

    # and a worker taking the message sends it once
    [(_task, args)] = queued_messages(celery_redis_broker)
    send_email_notification_task.apply(args=args)
    send_email_notification_task.apply(args=args)
    assert [message.subject for message in mail.outbox] == ["7-day streak!"]


@pytest.mark.django_db(transaction=True)
def test_an_exam_that_reaches_no_milestone_queues_nothing(
    celery_redis_broker, learner, learner_client
):
    response = learner_client.post(
        "/api/exams/history",
        {"exam_code": "IELTS-L2", "score": 30, "max_score": 40, "duration_s": 1800},
        format="json",
    )

    assert response.status_code == 201
    assert queued_messages(celery_redis_broker) == []
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_keeps_the_request_and_the_row_and_leaves_the_email_unsent(
    broker_outage, learner, learner_client, settings, caplog
):
    # given: the broker refuses connections
    broker_outage.start()
    settings.STREAK_MILESTONES = frozenset({1})

    # when
    response = learner_client.post(
        "/api/exams/history",
        {"exam_code": "IELTS-L2", "score": 30, "max_score": 40, "duration_s": 1800},
        format="json",
    )

    # then: an unsent row a sweep can queue again (channel=email, sent_at null)
    assert response.status_code == 201
    notification = Notification.objects.get(user=learner)
    assert (notification.channel, notification.sent_at) == (NotificationChannel.EMAIL, None)
    assert "Could not queue the email" in caplog.text
