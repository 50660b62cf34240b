"""Storing notices in bulk: ``notifications_create_many``."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from notifications import selectors
from notifications.models import Notification, NotificationChannel, NotificationKind
from notifications.services import NotificationDraft, notifications_create_many
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


class TestNotificationsCreateMany:
    def test_a_key_stored_by_another_writer_in_between_falls_back_to_one_by_one(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        # given: the pre-filter misses a key another writer stores just after it ran
        users = UserFactory.create_batch(3)
        drafts = [
            NotificationDraft(
                user=user,
                kind=NotificationKind.DAILY_REMINDER,
                channel=NotificationChannel.EMAIL,
                title="Reminder",
                dedupe_key=f"daily-reminder:{user.pk}:2026-11-23",
            )
            for user in users
        ]
        raced = NotificationFactory(user=users[0], dedupe_key=drafts[0].dedupe_key)
        monkeypatch.setattr(
            "notifications.services.notices.notification_existing_keys", lambda *, keys: set()
        )

        # when
        with django_capture_on_commit_callbacks(execute=True):
            stored = notifications_create_many(drafts=drafts)

        # then: the two new ones are stored and emailed once; the other writer's row is untouched
        assert stored == 2
        assert Notification.objects.count() == 3
        assert Notification.objects.get(pk=raced.pk).title == raced.title
        assert sorted(message.to[0] for message in mail.outbox) == sorted(
            user.email for user in users[1:]
        )

    def test_existing_keys_are_read_in_one_query(self, django_assert_num_queries):
        # given
        stored = NotificationFactory(dedupe_key="weekly-report:1:2026-W47")

        # when / then
        with django_assert_num_queries(1):
            found = selectors.notification_existing_keys(
                keys=[stored.dedupe_key, "weekly-report:2:2026-W47"]
            )
        assert found == {stored.dedupe_key}
