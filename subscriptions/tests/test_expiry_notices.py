"""The "expiring soon" email of paid subscriptions that will not renew, and the expiry email."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from subscriptions.models import SubscriptionStatus
from subscriptions.services import subscriptions_expire_due, subscriptions_notify_expiring
from subscriptions.tasks import notify_expiring_subscriptions_task
from subscriptions.tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(db):
    return PlanFactory(code="pro", price_cents=1900, tier=2)


@pytest.fixture
def free(db):
    return PlanFactory(code="free", price_cents=0, tier=0)


def _sub(plan, *, days_left: float, cancelled: bool = True):
    now = timezone.now()
    return SubscriptionFactory(
        plan=plan,
        status=SubscriptionStatus.CANCELLED if cancelled else SubscriptionStatus.ACTIVE,
        auto_renew=not cancelled,
        cancelled_at=now if cancelled else None,
        ends_at=now + dt.timedelta(days=days_left),
    )


def test_a_paid_non_renewing_subscription_gets_one_email_three_days_before_it_ends(
    paid, free, django_capture_on_commit_callbacks
):
    # given
    soon = _sub(paid, days_left=2.5)
    _sub(paid, days_left=5)  # too early
    _sub(paid, days_left=2, cancelled=False)  # renews
    _sub(free, days_left=2)  # free plan

    # when: the hourly job runs twice
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify_expiring_subscriptions_task.delay(trigger="manual")

    # then
    [notice] = Notification.objects.filter(kind="subscription_expiring")
    assert (notice.user_id, notice.channel) == (soon.user_id, "email")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [soon.user.email]
    assert "ends soon" in mail.outbox[0].subject.lower()


def test_the_expiring_job_works_in_batches(paid):
    for _ in range(5):
        _sub(paid, days_left=1)

    assert subscriptions_notify_expiring(batch_size=2) == 5
    assert subscriptions_notify_expiring(batch_size=2) == 0


def test_a_paid_subscription_that_expires_is_also_emailed(
    paid, free, django_capture_on_commit_callbacks
):
    # given
    paid_sub = _sub(paid, days_left=1)
    free_sub = _sub(free, days_left=1)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions_expire_due(now=timezone.now() + dt.timedelta(days=2))

    # then: in-app for both, an email for the paid one
    assert Notification.objects.filter(user=free_sub.user, channel="in_app").count() == 1
    assert not Notification.objects.filter(user=free_sub.user, channel="email").exists()
    assert Notification.objects.filter(user=paid_sub.user, channel="email").count() == 1
    assert [message.to for message in mail.outbox] == [[paid_sub.user.email]]
