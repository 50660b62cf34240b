import smtplib
import threading
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from etrainer.api.errors import ApplicationError
from notifications.models import Notification, NotificationChannel
from notifications.services import notify
from notifications.services.emails import EmailOutcome, notification_send_email
from notifications.tasks import send_email_notification_task
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


class FailingEmailBackend:
    """An SMTP server that refuses: what the task retries on."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def email_notice(user, key="report:1:2026-W10", **extra):
    return notify(
        user=user,
        kind="weekly_report",
        channel=NotificationChannel.EMAIL,
        title="Your week",
        body="5 exams, best score <b>92%</b>.\nKeep going.",
        dedupe_key=key,
        payload={"exams": 5},
        **extra,
    )


def test_in_app_notice_is_stored_and_not_emailed(learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = notify(user=learner, kind="system", title="Welcome", body="Hello.")

    assert result.created is True
    assert Notification.objects.get().dedupe_key.startswith(f"system:{learner.pk}:")
    assert mail.outbox == []  # the commit's callbacks ran (the push) and queued no email
    assert Notification.objects.get().sent_at is None


def test_notify_twice_with_one_key_stores_one_row_and_sends_one_email(
    learner, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = email_notice(learner)
        second = email_notice(learner)

    # then
    assert (first.created, second.created) == (True, False)
    assert second.notification.pk == first.notification.pk
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1
    assert Notification.objects.get().sent_at is not None


def test_the_email_has_a_text_and_an_html_body_from_the_templates(
    learner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email_notice(learner)

    [message] = mail.outbox
    assert message.to == [learner.email]
    assert message.subject == "Your week"
    assert "best score <b>92%</b>." in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "best score &lt;b&gt;92%&lt;/b&gt;.<br>Keep going." in html
    assert learner.first_name in html


def test_invalid_notice_is_rejected_and_nothing_stored(learner):
    with pytest.raises(ApplicationError):
        notify(user=learner, kind="system", title="", channel="pigeon")

    assert Notification.objects.count() == 0


def test_sending_twice_sends_once():
    notification = NotificationFactory(channel=NotificationChannel.EMAIL)

    outcomes = [notification_send_email(notification_id=str(notification.pk)) for _ in range(2)]

    assert outcomes == [EmailOutcome.SENT, EmailOutcome.ALREADY_SENT]
    assert len(mail.outbox) == 1


def test_a_delivery_holding_the_email_is_not_duplicated_until_its_lease_expires():
    # given: another delivery claimed the email a moment ago
    held = NotificationFactory(
        channel=NotificationChannel.EMAIL, sending_until=timezone.now() + timedelta(minutes=4)
    )
    expired = NotificationFactory(
        channel=NotificationChannel.EMAIL, sending_until=timezone.now() - timedelta(seconds=1)
    )

    # when / then
    assert notification_send_email(notification_id=str(held.pk)) == EmailOutcome.IN_PROGRESS
    assert notification_send_email(notification_id=str(expired.pk)) == EmailOutcome.SENT
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("notification_id", ["999999", "nonsense"])
def test_a_missing_notification_is_skipped(notification_id):
    assert notification_send_email(notification_id=notification_id) == EmailOutcome.MISSING


def test_an_in_app_notification_is_never_emailed():
    notification = NotificationFactory(channel=NotificationChannel.IN_APP)

    assert notification_send_email(notification_id=str(notification.pk)) == EmailOutcome.MISSING
    assert mail.outbox == []


def test_a_failed_send_releases_the_claim_so_a_retry_can_send(settings):
    # given
    notification = NotificationFactory(channel=NotificationChannel.EMAIL)
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    # when
    with pytest.raises(smtplib.SMTPException):
        notification_send_email(notification_id=str(notification.pk))

    # then
    notification.refresh_from_db()
    assert (notification.sent_at, notification.sending_until) == (None, None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notification_send_email(notification_id=str(notification.pk)) == EmailOutcome.SENT


def test_the_task_retries_on_smtp_errors_with_backoff_and_acks_late():
    task = send_email_notification_task

    assert task.name == "notifications.tasks.send_email_notification_task"
    assert task.acks_late is True
    assert issubclass(smtplib.SMTPServerDisconnected, task.autoretry_for)
    assert issubclass(ConnectionRefusedError, task.autoretry_for)
    assert task.retry_backoff is True
    assert task.max_retries >= 1


def test_an_smtp_failure_makes_the_task_retry_and_leaves_the_email_unsent(settings):
    # given
    notification = NotificationFactory(channel=NotificationChannel.EMAIL)
    settings.EMAIL_BACKEND = f"{__name__}.FailingEmailBackend"

    # when
    with pytest.raises(Retry) as raised:
        send_email_notification_task.apply(args=[str(notification.pk)])

    # then
    assert isinstance(raised.value.exc, smtplib.SMTPServerDisconnected)
    notification.refresh_from_db()
    assert (notification.sent_at, notification.sending_until) == (None, None)


def test_the_task_sends_through_the_service():
    notification = NotificationFactory(channel=NotificationChannel.EMAIL)

    result = send_email_notification_task.apply(args=[str(notification.pk)])

    assert result.get() == EmailOutcome.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serialises writers: no race to test (the PostgreSQL and MongoDB lanes run it)",
)
def test_two_threads_racing_with_one_key_store_one_row_and_send_one_email():
    # given
    user = UserFactory()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def call_notify():
        try:
            barrier.wait(timeout=10)
            results.append(email_notice(user, key=f"daily-reminder:{user.pk}:2026-03-10"))
        except Exception as exc:  # reported below: a thread's exception would be lost
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=call_notify) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert errors == []
    assert sorted(result.created for result in results) == [False, True]
    assert len({result.notification.pk for result in results}) == 1
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_dedupe_key_over_the_length_limit_is_rejected(learner):
    with pytest.raises(ApplicationError) as raised:
        notify(user=learner, kind="system", title="Hi", dedupe_key="k" * 201)

    assert "dedupe_key" in raised.value.details["fields"]
    assert Notification.objects.count() == 0
