"""``etrainer.db.atomic`` on every engine: writes that belong together land together, and
``on_commit`` callbacks (email queueing, WebSocket pushes) run only once the commit has happened.

Runs on SQLite, PostgreSQL and MongoDB alike; on MongoDB the helper is the backend's multi-document
transaction (the lane's server is a replica set). Failures are injected at the database boundary
with a ``pre_save`` receiver raising ``DatabaseError`` (what a lost connection raises), never by
replacing the services under test.
"""

from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import DatabaseError
from django.db.models.signals import pre_save

from accounts.tests.factories import UserFactory
from etrainer.api.errors import ApplicationError
from etrainer.db import atomic
from notifications.models import Notification, NotificationChannel
from notifications.services import notify
from subscriptions.models import AiTokenAccount, Subscription, SubscriptionStatus
from subscriptions.services import subscription_create, subscription_switch
from subscriptions.tests.factories import PlanFactory, SubscriptionFactory

# Real commits: on SQL the test is not wrapped in a transaction, so ``atomic`` is the outermost
# block and its commit is the one that runs the ``on_commit`` callbacks.
pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def failing_save(model):
    """The next INSERT or save of ``model`` fails as a lost database connection would."""

    def refuse(sender, **kwargs):
        raise DatabaseError("connection lost (injected)")

    pre_save.connect(refuse, sender=model, weak=False)
    try:
        yield
    finally:
        pre_save.disconnect(refuse, sender=model)


def email_notice(user, key="atomic:1"):
    return notify(
        user=user,
        kind="system",
        channel=NotificationChannel.EMAIL,
        title="Hello",
        body="A test email.",
        dedupe_key=key,
    )


def test_writes_in_a_failed_block_are_all_undone():
    user = UserFactory()
    plan = PlanFactory()

    def two_writes_then_a_failure():
        with atomic():
            SubscriptionFactory(user=user, plan=plan)
            AiTokenAccount.objects.create(user=user, period_start="2026-12-01", quota=10)
            raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        two_writes_then_a_failure()

    assert Subscription.objects.count() == 0
    assert AiTokenAccount.objects.count() == 0


def test_a_subscribe_that_fails_half_way_leaves_nothing_written():
    # given a learner with no token account: subscribing stores the subscription, then creates it
    user = UserFactory()
    plan = PlanFactory(code="basic", ai_tokens_per_period=100)

    # when the token account's INSERT fails after the subscription's
    with failing_save(AiTokenAccount), pytest.raises(DatabaseError):
        subscription_create(user=user, plan_code="basic")

    # then neither is stored, and the learner can subscribe once the database is back
    assert Subscription.objects.filter(user=user).count() == 0
    assert AiTokenAccount.objects.filter(user=user).count() == 0
    subscription = subscription_create(user=user, plan_code=plan.code)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert AiTokenAccount.objects.get(user=user).quota == 100


def test_a_switch_that_fails_half_way_keeps_the_old_plan():
    # given a live basic subscription and no token account yet
    user = UserFactory()
    basic = PlanFactory(code="basic", tier=1, ai_tokens_per_period=100)
    PlanFactory(code="pro", tier=2, ai_tokens_per_period=1000)
    subscription = SubscriptionFactory(user=user, plan=basic)

    # when the token account's INSERT fails after the subscription's update to pro
    with failing_save(AiTokenAccount), pytest.raises(DatabaseError):
        subscription_switch(user=user, subscription_id=subscription.pk, plan_code="pro")

    # then the subscription is still on basic
    subscription.refresh_from_db()
    assert subscription.plan_id == basic.pk
    assert AiTokenAccount.objects.filter(user=user).count() == 0


def test_an_email_is_queued_only_after_its_notification_commits():
    user = UserFactory()

    with atomic():
        email_notice(user)
        assert mail.outbox == [], "the email went out before the commit"

    assert [message.subject for message in mail.outbox] == ["Hello"]


def test_a_rolled_back_notification_sends_no_email():
    user = UserFactory()

    def notify_then_fail():
        with atomic():
            email_notice(user)
            raise ApplicationError("conflict", "The caller failed after notifying.", status=409)

    with pytest.raises(ApplicationError):
        notify_then_fail()

    assert Notification.objects.count() == 0
    assert mail.outbox == []
