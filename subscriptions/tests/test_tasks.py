"""The subscriptions jobs: expire_subscriptions and reset_ai_tokens, through their Celery tasks."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from jobs.models import JobRun, JobStatus
from notifications.models import Notification, NotificationKind
from subscriptions import cache as access_cache
from subscriptions import services
from subscriptions.models import AiTokenAccount, Subscription, SubscriptionStatus
from subscriptions.selectors import current_period_start
from subscriptions.tasks import expire_subscriptions_task, reset_ai_tokens_task
from subscriptions.tests.factories import AiTokenAccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

ACCESS = "/api/me/access"
# The JobRun bookkeeping of a run: close rows left by dead workers, insert, finish.
RUN_QUERIES = 3
# Statements per batch. Expiry: the batch, its users' languages (the notices are written in them),
# existing notice keys, the notices' insert (inside a savepoint: 3 statements on SQL), users
# subscribed again, quotas, statuses. Reset: the batch and its update. Each loop also ends on one
# empty read.
EXPIRE_BATCH_QUERIES = 9
# Once per run: the paid plans' ids (their expiry is emailed too).
EXPIRE_RUN_QUERIES = 1
RESET_BATCH_QUERIES = 2


def _past(**delta) -> dt.datetime:
    return timezone.now() - dt.timedelta(**delta)


def _due_subscription(plan=None, **fields) -> Subscription:
    """A subscription past its end that no job has expired yet."""
    extra = {"plan": plan} if plan else {}
    start = _past(days=31)
    subscription = SubscriptionFactory(
        started_at=start, ends_at=_past(minutes=5), **extra, **fields
    )
    AiTokenAccountFactory(user=subscription.user, quota=100, used=7)
    return subscription


def _snapshot() -> list[tuple]:
    return list(
        Subscription.objects.order_by("pk").values_list("pk", "status", "live_key", "ends_at")
    )


def _last_run(job: str) -> JobRun:
    return JobRun.objects.filter(job=job).latest("started_at", "pk")


# --- expire_subscriptions ------------------------------------------------------------------------


def test_expire_marks_due_subscriptions_expired_and_notifies_their_users(basic_plan):
    # given
    due_active = _due_subscription(basic_plan)
    due_cancelled = _due_subscription(basic_plan, status=SubscriptionStatus.CANCELLED)
    running = SubscriptionFactory(plan=basic_plan)
    AiTokenAccountFactory(user=running.user, quota=100)
    already = SubscriptionFactory(
        plan=basic_plan, status=SubscriptionStatus.EXPIRED, ends_at=_past(days=3)
    )

    # when
    result = expire_subscriptions_task.apply(kwargs={"trigger": "beat"})

    # then
    assert result.result["status"] == "succeeded"
    assert result.result["items"] == 2
    expired = Subscription.objects.filter(status=SubscriptionStatus.EXPIRED)
    assert set(expired.values_list("pk", flat=True)) == {
        due_active.pk,
        due_cancelled.pk,
        already.pk,
    }
    assert not expired.exclude(live_key=None).exists()
    running.refresh_from_db()
    assert (running.status, running.live_key) == (SubscriptionStatus.ACTIVE, str(running.user_id))
    quotas = dict(AiTokenAccount.objects.values_list("user_id", "quota"))
    assert quotas == {due_active.user_id: 0, due_cancelled.user_id: 0, running.user_id: 100}
    notices = Notification.objects.order_by("user_id")
    assert [(n.user_id, n.kind, n.channel, n.dedupe_key) for n in notices] == [
        (
            sub.user_id,
            NotificationKind.SUBSCRIPTION_EXPIRED,
            "in_app",
            f"subscription-expired:{sub.pk}",
        )
        for sub in sorted([due_active, due_cancelled], key=lambda sub: sub.user_id)
    ]
    run = _last_run("expire_subscriptions")
    assert (run.trigger, run.status, run.items) == ("beat", JobStatus.SUCCEEDED, 2)


def test_expire_twice_changes_nothing_and_notifies_nothing_the_second_time(basic_plan):
    # given
    for _ in range(3):
        _due_subscription(basic_plan)
    expire_subscriptions_task.apply()
    before = (_snapshot(), Notification.objects.count(), list(AiTokenAccount.objects.values()))

    # when
    result = expire_subscriptions_task.apply()

    # then
    assert result.result["items"] == 0
    after = (_snapshot(), Notification.objects.count(), list(AiTokenAccount.objects.values()))
    assert after == before
    assert before[1] == 3
    runs = JobRun.objects.filter(job="expire_subscriptions").order_by("started_at", "pk")
    assert [(run.status, run.items) for run in runs] == [
        (JobStatus.SUCCEEDED, 3),
        (JobStatus.SUCCEEDED, 0),
    ]


def test_expire_invalidates_the_cached_access_check(subscribed_learner, learner_client):
    # given: a warm access check, then the subscription's end passes
    assert learner_client.get(ACCESS).json()["ai_tokens"]["quota"] == 100
    Subscription.objects.filter(user=subscribed_learner).update(ends_at=_past(seconds=1))
    assert learner_client.get(ACCESS).json()["ai_tokens"]["quota"] == 100  # still cached

    # when
    expire_subscriptions_task.apply()

    # then
    body = learner_client.get(ACCESS).json()
    assert body["ai_tokens"]["quota"] == 0
    assert body["subscription"] is None
    assert body["tier"] == 0


def test_expire_completes_a_run_killed_after_notifying(basic_plan):
    """A run whose worker died after storing a batch's notices: the rows are still due, so the
    next run expires them and every user still has exactly one notice."""
    # given
    subscriptions = [_due_subscription(basic_plan) for _ in range(4)]
    services.notify_expired([(sub.pk, sub.user_id) for sub in subscriptions[:2]])

    # when
    expire_subscriptions_task.apply()

    # then
    assert not Subscription.objects.exclude(status=SubscriptionStatus.EXPIRED).exists()
    assert sorted(Notification.objects.values_list("dedupe_key", flat=True)) == sorted(
        f"subscription-expired:{sub.pk}" for sub in subscriptions
    )


def test_expire_keeps_the_quota_of_a_user_subscribed_again(basic_plan, pro_plan):
    # given: an overdue row the job has not reached, and a new live subscription of the same user
    old = _due_subscription(basic_plan, live_key=None)
    SubscriptionFactory(user=old.user, plan=pro_plan)
    AiTokenAccount.objects.filter(user=old.user).update(quota=500)

    # when
    expire_subscriptions_task.apply()

    # then
    old.refresh_from_db()
    assert old.status == SubscriptionStatus.EXPIRED
    assert AiTokenAccount.objects.get(user=old.user).quota == 500


def test_expire_goes_through_every_batch(basic_plan):
    for _ in range(25):
        _due_subscription(basic_plan)

    result = expire_subscriptions_task.apply(kwargs={"batch_size": 10})

    assert result.result["items"] == 25
    assert not Subscription.objects.exclude(status=SubscriptionStatus.EXPIRED).exists()
    assert Notification.objects.count() == 25
    assert _last_run("expire_subscriptions").items == 25


@pytest.mark.parametrize("rows", [5, 50])
def test_expire_queries_do_not_grow_with_the_rows(basic_plan, rows, django_assert_max_num_queries):
    for _ in range(rows):
        _due_subscription(basic_plan)

    with django_assert_max_num_queries(EXPIRE_BATCH_QUERIES + 1 + EXPIRE_RUN_QUERIES + RUN_QUERIES):
        result = expire_subscriptions_task.apply()

    assert result.result["items"] == rows


def test_expire_queries_grow_with_the_batches_not_the_rows(basic_plan):
    """5 and 50 rows in batches of 5: the same statements per batch, ten times over."""

    def queries(rows: int) -> int:
        for _ in range(rows):
            _due_subscription(basic_plan)
        with CaptureQueriesContext(connection) as captured:
            assert expire_subscriptions_task.apply(kwargs={"batch_size": 5}).result["items"] == rows
        return len(captured)

    one_batch, ten_batches = queries(5), queries(50)

    assert one_batch == EXPIRE_BATCH_QUERIES + 1 + EXPIRE_RUN_QUERIES + RUN_QUERIES
    assert ten_batches == 10 * EXPIRE_BATCH_QUERIES + 1 + EXPIRE_RUN_QUERIES + RUN_QUERIES


# --- reset_ai_tokens -----------------------------------------------------------------------------


def test_reset_starts_the_new_period_for_every_old_account():
    # given
    period = current_period_start()
    last_month = (period - dt.timedelta(days=1)).replace(day=1)
    old = [AiTokenAccountFactory(period_start=last_month, quota=100, used=used) for used in (0, 60)]
    older = AiTokenAccountFactory(period_start=dt.date(2020, 1, 1), quota=0, used=5)
    current = AiTokenAccountFactory(period_start=period, quota=100, used=30)

    # when
    result = reset_ai_tokens_task.apply(kwargs={"trigger": "beat"})

    # then
    assert result.result["items"] == 3
    accounts = {a.pk: (a.period_start, a.quota, a.used) for a in AiTokenAccount.objects.all()}
    assert accounts == {
        old[0].pk: (period, 100, 0),
        old[1].pk: (period, 100, 0),
        older.pk: (period, 0, 0),
        current.pk: (period, 100, 30),
    }
    run = _last_run("reset_ai_tokens")
    assert (run.trigger, run.status, run.items) == ("beat", JobStatus.SUCCEEDED, 3)


def test_reset_twice_in_a_period_changes_nothing_the_second_time():
    # given
    for _ in range(3):
        AiTokenAccountFactory(period_start=dt.date(2020, 1, 1), used=40)
    reset_ai_tokens_task.apply()
    AiTokenAccount.objects.filter(pk=AiTokenAccount.objects.first().pk).update(used=12)  # a spend
    before = list(AiTokenAccount.objects.order_by("pk").values())

    # when
    result = reset_ai_tokens_task.apply()

    # then
    assert result.result["items"] == 0
    assert list(AiTokenAccount.objects.order_by("pk").values()) == before
    assert [run.items for run in JobRun.objects.filter(job="reset_ai_tokens").order_by("pk")] == [
        3,
        0,
    ]


def test_reset_invalidates_the_cached_balance(subscribed_learner, learner_client):
    # given: a warm balance of last month's account
    AiTokenAccount.objects.filter(user=subscribed_learner).update(
        period_start=dt.date(2020, 1, 1), used=90
    )
    learner_client.get(ACCESS)
    assert access_cache.fetch(subscribed_learner.pk, ["ai"]).get("ai") is not access_cache.MISS

    # when
    reset_ai_tokens_task.apply()

    # then: the entry is gone and the next check reads the new period from the database
    assert access_cache.fetch(subscribed_learner.pk, ["ai"]).get("ai") is access_cache.MISS
    balance = learner_client.get(ACCESS).json()["ai_tokens"]
    assert (balance["quota"], balance["used"]) == (100, 0)
    cached = access_cache.fetch(subscribed_learner.pk, ["ai"]).get("ai")
    assert cached["period_start"] == current_period_start()


@pytest.mark.parametrize("rows", [5, 50])
def test_reset_queries_do_not_grow_with_the_rows(rows, django_assert_max_num_queries):
    for user in UserFactory.create_batch(rows):
        AiTokenAccountFactory(user=user, period_start=dt.date(2020, 1, 1))

    with django_assert_max_num_queries(RESET_BATCH_QUERIES + 1 + RUN_QUERIES):
        result = reset_ai_tokens_task.apply()

    assert result.result["items"] == rows


def test_reset_goes_through_every_batch():
    for _ in range(25):
        AiTokenAccountFactory(period_start=dt.date(2020, 1, 1), used=3)

    with CaptureQueriesContext(connection) as captured:
        result = reset_ai_tokens_task.apply(kwargs={"batch_size": 10})

    assert result.result["items"] == 25
    assert not AiTokenAccount.objects.exclude(used=0).exists()
    assert len(captured) == 3 * RESET_BATCH_QUERIES + 1 + RUN_QUERIES
