from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification, NotificationChannel
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


def test_staff_can_list_and_open_notifications_but_not_add_them(admin_client):
    notification = NotificationFactory(title="Weekly report")

    assert admin_client.get(CHANGELIST, {"q": "weekly"}).status_code == 200
    assert admin_client.get(f"{CHANGELIST}{notification.pk}/change/").status_code == 200
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_admin_actions_mark_read_and_queue_unsent_emails(admin_client):
    # given
    unread = NotificationFactory()
    unsent = NotificationFactory(channel=NotificationChannel.EMAIL)

    # when
    admin_client.post(CHANGELIST, {"action": "mark_read", "_selected_action": [str(unread.pk)]})
    admin_client.post(
        CHANGELIST, {"action": "queue_unsent_emails", "_selected_action": [str(unsent.pk)]}
    )

    # then: the task ran eagerly (test settings) and sent the email once
    assert Notification.objects.get(pk=unread.pk).read_at is not None
    assert Notification.objects.get(pk=unsent.pk).sent_at is not None
    assert len(mail.outbox) == 1


def test_queue_action_leaves_an_email_being_sent_to_its_delivery(admin_client):
    # given: one email free to claim, one held by a running delivery's lease
    free = NotificationFactory(channel=NotificationChannel.EMAIL)
    leased = NotificationFactory(
        channel=NotificationChannel.EMAIL, sending_until=timezone.now() + timedelta(minutes=5)
    )

    # when
    response = admin_client.post(
        CHANGELIST,
        {"action": "queue_unsent_emails", "_selected_action": [str(free.pk), str(leased.pk)]},
        follow=True,
    )

    # then: only the free one was queued (and sent, eagerly); the operator is told why
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "1 of 1 email(s) queued; 1 skipped (not an email, already sent, or being sent)."
    ]
    assert [message.to for message in mail.outbox] == [[free.user.email]]
    assert Notification.objects.get(pk=leased.pk).sent_at is None
