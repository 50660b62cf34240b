"""The requeue_unsent_emails job: emails whose queuing was lost (broker down, retries spent) are
queued again and sent once; fresh, sent, leased, in-app and stale ones are left alone."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from etrainer.api.errors import ApplicationError, ErrorCode
from jobs.models import JobRun, JobStatus
from jobs.registry import JOBS
from notifications.models import Notification, NotificationChannel
from notifications.services.email_queue import unsent_emails_requeue
from notifications.tasks import requeue_unsent_emails_task, send_email_notification_task
from notifications.tests.factories import NotificationFactory
from notifications.tests.test_email_queue import TASK, queued_messages

pytestmark = pytest.mark.django_db

PAST_GRACE = timedelta(minutes=20)


@pytest.fixture(autouse=True)
def _requeue_window(settings):
    """The defaults, spelled out: queue again after 10 minutes, give up after 72 hours."""
    settings.NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS = 600
    settings.NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS = 72


def unsent_email(*, age: timedelta = PAST_GRACE, **fields) -> Notification:
    """An email notification created ``age`` ago (``created_at`` is auto_now_add: set after)."""
    notification = NotificationFactory(channel=NotificationChannel.EMAIL, **fields)
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - age)
    return notification


def _runs() -> list[tuple[str, int]]:
    return list(
        JobRun.objects.filter(job="requeue_unsent_emails")
        .order_by("started_at", "pk")
        .values_list("status", "items")
    )


def _unsent() -> set:
    return set(Notification.objects.filter(sent_at__isnull=True).values_list("pk", flat=True))


def test_the_job_is_registered_every_15_minutes():
    spec = JOBS["requeue_unsent_emails"]

    assert spec.task == requeue_unsent_emails_task.name
    assert (str(spec.crontab), spec.in_words) == ("*/15 * * * *", "every 15 minutes")


def test_an_email_left_unsent_is_sent_once_and_a_second_run_sends_nothing():
    # given: an email whose queuing was lost 20 minutes ago (tasks run eagerly here)
    lost = unsent_email(title="Your week")

    # when
    first = requeue_unsent_emails_task.apply(kwargs={"trigger": "beat"})
    second = requeue_unsent_emails_task.apply(kwargs={"trigger": "beat"})

    # then
    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([lost.user.email], "Your week")
    ]
    lost.refresh_from_db()
    assert lost.sent_at is not None
    assert lost.sending_until is None
    assert (first.result["items"], second.result["items"]) == (1, 0)
    assert _runs() == [(JobStatus.SUCCEEDED, 1), (JobStatus.SUCCEEDED, 0)]


def test_only_lost_emails_are_queued(celery_redis_broker):
    # given
    now = timezone.now()
    lost = unsent_email()
    lease_expired = unsent_email(sending_until=now - timedelta(minutes=1))  # its worker died
    unsent_email(age=timedelta(minutes=1))  # notify queued it a moment ago
    unsent_email(sent_at=now - timedelta(minutes=15))
    unsent_email(sending_until=now + timedelta(minutes=4))  # a delivery is sending it
    NotificationFactory(channel=NotificationChannel.IN_APP)
    Notification.objects.filter(channel=NotificationChannel.IN_APP).update(
        created_at=now - PAST_GRACE
    )
    unsent_email(age=timedelta(hours=73))  # stale: left unsent

    # when
    queued = unsent_emails_requeue(batch_size=2)

    # then
    assert queued == 2
    assert sorted(queued_messages(celery_redis_broker)) == sorted(
        [(TASK, [str(lost.pk)]), (TASK, [str(lease_expired.pk)])]
    )


def test_the_window_comes_from_the_settings(settings, celery_redis_broker):
    # given
    settings.NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS = 30
    settings.NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS = 100
    one_minute_old = unsent_email(age=timedelta(minutes=1))
    three_days_old = unsent_email(age=timedelta(hours=73))
    unsent_email(age=timedelta(hours=101))

    # when
    queued = unsent_emails_requeue(batch_size=10)

    # then
    assert queued == 2
    assert sorted(queued_messages(celery_redis_broker)) == sorted(
        [(TASK, [str(one_minute_old.pk)]), (TASK, [str(three_days_old.pk)])]
    )


def test_a_broker_outage_fails_the_run_visibly_and_the_next_run_sends(
    broker_outage, celery_redis_broker, caplog
):
    # given: three lost emails, and the broker goes away
    lost = {unsent_email().pk for _ in range(3)}
    broker_outage.start()

    # when: the job runs during the outage
    with pytest.raises(ApplicationError) as raised:
        requeue_unsent_emails_task.apply(kwargs={"trigger": "beat"})

    # then: nothing is lost or sent, the first refusal stopped the run, and the run says so
    assert raised.value.code == ErrorCode.SERVICE_UNAVAILABLE
    assert raised.value.details == {"queued": 0}
    assert _unsent() == lost
    assert mail.outbox == []
    assert caplog.text.count("Could not queue the email") == 1
    [failed] = JobRun.objects.filter(job="requeue_unsent_emails")
    assert (failed.status, failed.items) == (JobStatus.FAILED, 0)
    assert "refused an email after 0 were queued" in failed.error

    # when: the broker is back, the next run queues them and a worker delivers each once
    broker_outage.end()
    result = requeue_unsent_emails_task.apply(kwargs={"trigger": "beat"})
    for _task, args in queued_messages(celery_redis_broker):
        send_email_notification_task.apply(args=args)

    # then
    assert result.result["items"] == 3
    assert len(mail.outbox) == 3
    assert _unsent() == set()
    assert _runs() == [(JobStatus.FAILED, 0), (JobStatus.SUCCEEDED, 3)]


@pytest.mark.parametrize("emails", [1, 7])
def test_queries_grow_with_batches_not_emails(
    emails, celery_redis_broker, django_assert_num_queries
):
    # given
    for _ in range(emails):
        unsent_email()

    # when: one query per batch of 2; a short batch is the last (7 → 2+2+2+1, 1 → 1)
    with django_assert_num_queries(emails // 2 + 1):
        queued = unsent_emails_requeue(batch_size=2)

    # then
    assert queued == emails
    assert len(queued_messages(celery_redis_broker)) == emails
