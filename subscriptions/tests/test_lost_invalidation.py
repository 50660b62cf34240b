"""A change whose cache invalidation Redis never received is still honoured: writes read the
database at once, reads within ACCESS_CACHE_REPLAY_SECONDS (the real redis-server, SIGSTOPped).

The change is made while Redis is hung and this process's breaker is open (an earlier call timed
out), so its invalidation is never sent; then Redis resumes and the breaker is reset, as for the
API workers of another process, which never saw the outage and read the old entries again. (A
command that merely timed out was sent, and a SIGSTOPped Redis runs it once resumed.)"""

import time

import pytest
from django.core.cache import cache

from accounts.models import User
from etrainer.redis_breaker import breaker
from subscriptions import services
from subscriptions.models import PendingInvalidation
from subscriptions.tests.factories import (
    AiTokenAccountFactory,
    CourseGrantFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

ACCESS = "/api/me/access"
BOUND = 0.5


@pytest.fixture(autouse=True)
def replay_bound(settings):
    settings.ACCESS_CACHE_REPLAY_SECONDS = BOUND


def while_redis_hung(redis_server, change) -> None:
    redis_server.pause()
    try:
        cache.get("etr-test-probe")  # times out: the breaker opens
        assert breaker.is_open
        change()
    finally:
        redis_server.resume()
    breaker.reset()


def warm(client, url=ACCESS) -> dict:
    client.get(url)
    response = client.get(url)
    assert response.status_code == 200
    return response.json()


def after_the_bound() -> None:
    time.sleep(BOUND + 0.2)


def deactivate(user) -> None:
    user.is_active = False
    user.save()


def test_a_deactivation_redis_missed_stops_writes_at_once_and_reads_within_the_bound(
    redis_server, learner, basic_plan, learner_client
):
    AiTokenAccountFactory(user=learner, quota=100)
    warm(learner_client)

    while_redis_hung(redis_server, lambda: deactivate(User.objects.get(pk=learner.pk)))

    assert PendingInvalidation.objects.filter(family="user", ident=str(learner.pk)).exists()
    subscribe = learner_client.post("/api/subscriptions", {"plan": "basic"}, format="json")
    consume = learner_client.post("/api/ai-tokens/consume", {"amount": 1}, format="json")
    assert (subscribe.status_code, consume.status_code) == (401, 401)
    assert not learner.subscriptions.exists()
    after_the_bound()
    response = learner_client.get(ACCESS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not PendingInvalidation.objects.exists()


def test_a_password_change_redis_missed_ends_the_session_within_the_bound(
    redis_server, learner, learner_client
):
    warm(learner_client)

    def change_password():
        user = User.objects.get(pk=learner.pk)
        user.set_password("a-whole-new-passphrase-42")
        user.save()

    while_redis_hung(redis_server, change_password)

    after_the_bound()
    assert learner_client.get(ACCESS).status_code == 401


def test_a_downgrade_redis_missed_is_seen_within_the_bound(
    redis_server, learner, basic_plan, pro_plan, learner_client
):
    subscription = SubscriptionFactory(user=learner, plan=pro_plan)
    AiTokenAccountFactory(user=learner, quota=500)
    assert warm(learner_client)["tier"] == 2

    while_redis_hung(
        redis_server,
        lambda: services.subscription_switch(
            user=learner, subscription_id=subscription.pk, plan_code="basic"
        ),
    )

    after_the_bound()
    summary = learner_client.get(ACCESS).json()
    assert (summary["tier"], summary["ai_tokens"]["quota"]) == (1, 100)


def test_a_plan_edit_redis_missed_is_seen_within_the_bound(
    redis_server, subscribed_learner, basic_plan, learner_client
):
    """A Plan edit bumps the family's version; a lost bump is replayed as a bump."""
    assert warm(learner_client)["tier"] == 1

    def lower_the_tier():
        basic_plan.tier = 0
        basic_plan.save()

    while_redis_hung(redis_server, lower_the_tier)

    assert PendingInvalidation.objects.filter(family="sub", ident="").exists()
    after_the_bound()
    assert learner_client.get(ACCESS).json()["tier"] == 0


def test_a_grant_revocation_redis_missed_is_seen_within_the_bound(
    redis_server, learner, pro_course, learner_client
):
    CourseGrantFactory(user=learner, course=pro_course)
    url = f"/api/courses/{pro_course.pk}/access"
    assert warm(learner_client, url)["allowed"] is True

    while_redis_hung(redis_server, lambda: services.course_revoke(user=learner, course=pro_course))

    after_the_bound()
    assert learner_client.get(url).json()["reason"] == "upgrade_required"


def test_a_lost_invalidation_waits_while_redis_is_still_unreachable(
    redis_server, subscribed_learner, learner_client
):
    """Rows go only once Redis took them; meanwhile every read goes to the database."""
    warm(learner_client)
    redis_server.pause()
    try:
        deactivate(User.objects.get(pk=subscribed_learner.pk))
        assert learner_client.get(ACCESS).status_code == 401
    finally:
        redis_server.resume()
    assert PendingInvalidation.objects.count() == 1


def test_the_bound_costs_one_query_per_period_for_the_whole_cache(
    subscribed_learner, learner_client, django_assert_num_queries
):
    warm(learner_client)
    after_the_bound()

    with django_assert_num_queries(1):  # the replay: nothing pending
        assert learner_client.get(ACCESS).status_code == 200
    with django_assert_num_queries(0):
        assert learner_client.get(ACCESS).status_code == 200
