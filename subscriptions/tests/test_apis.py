import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from subscriptions.models import AiTokenAccount, Subscription, SubscriptionStatus
from subscriptions.tests.factories import (
    AiTokenAccountFactory,
    CourseFactory,
    CourseGrantFactory,
    PlanFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db

ACCESS = "/api/me/access"


def course_access_url(course) -> str:
    return f"/api/courses/{course.pk}/access"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    return body["error"]


# --- /api/me/access --------------------------------------------------------------------------


def test_access_summary_shows_plan_tokens_and_grants(subscribed_learner, learner_client):
    grant = CourseGrantFactory(user=subscribed_learner)

    body = learner_client.get(ACCESS).json()

    assert body["user"] == str(subscribed_learner.pk)
    assert body["plan"] == {"code": "basic", "name": "Basic", "tier": 1}
    assert body["tier"] == 1
    assert body["subscription"]["status"] == "active"
    assert body["ai_tokens"]["quota"] == 100
    assert body["ai_tokens"]["used"] == 10
    assert body["ai_tokens"]["remaining"] == 90
    assert body["grants"] == [{"course": str(grant.course_id), "expires_at": None}]


def test_access_without_subscription_is_tier_zero(learner_client):
    body = learner_client.get(ACCESS).json()

    assert body["plan"] is None
    assert body["tier"] == 0
    assert body["ai_tokens"]["remaining"] == 0


def test_warm_access_makes_no_query(subscribed_learner, learner_client, django_assert_num_queries):
    learner_client.get(ACCESS)

    with django_assert_num_queries(0):
        response = learner_client.get(ACCESS)

    assert response.status_code == 200
    assert response.json()["tier"] == 1


def test_cold_access_makes_at_most_three_queries(
    subscribed_learner, learner_client, django_assert_max_num_queries
):
    CourseGrantFactory(user=subscribed_learner)
    cache.clear()

    with django_assert_max_num_queries(3):
        response = learner_client.get(ACCESS)

    assert response.status_code == 200
    assert response.json()["ai_tokens"]["used"] == 10


def test_cold_access_without_token_account_still_three_queries(
    learner, basic_plan, learner_client, django_assert_max_num_queries
):
    SubscriptionFactory(user=learner, plan=basic_plan)
    cache.clear()

    with django_assert_max_num_queries(3):
        response = learner_client.get(ACCESS)

    assert response.json()["ai_tokens"]["quota"] == 0


def test_expired_grant_and_ended_subscription_are_not_shown(learner, basic_plan, learner_client):
    past = timezone.now() - dt.timedelta(days=1)
    SubscriptionFactory(user=learner, plan=basic_plan, started_at=past - dt.timedelta(days=30))
    CourseGrantFactory(user=learner, expires_at=past)

    body = learner_client.get(ACCESS).json()

    assert body["plan"] is None
    assert body["grants"] == []


def test_inactive_user_is_refused_even_when_cached(learner, learner_client):
    learner_client.get(ACCESS)
    learner.is_active = False
    learner.save()

    response = learner_client.get(ACCESS)

    assert_error(response, 401, "authentication_failed")


def test_no_token_is_401(api_client):
    assert_error(api_client.get(ACCESS), 401, "not_authenticated")


def test_garbage_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    assert_error(api_client.get(ACCESS), 401, "token_not_valid")


def test_token_of_a_deleted_user_is_401(learner):
    client = bearer_client(learner)
    learner.delete()

    assert_error(client.get(ACCESS), 401, "authentication_failed")


# --- courses -----------------------------------------------------------------------------------


def test_course_access_by_tier_grant_or_upgrade(subscribed_learner, learner_client, pro_course):
    basic_course = CourseFactory(min_tier=1)
    free_course = CourseFactory(min_tier=0)

    assert learner_client.get(course_access_url(basic_course)).json()["reason"] == "plan"
    assert learner_client.get(course_access_url(free_course)).json()["reason"] == "free"
    denied = learner_client.get(course_access_url(pro_course)).json()
    assert denied["allowed"] is False
    assert denied["reason"] == "upgrade_required"

    CourseGrantFactory(user=subscribed_learner, course=pro_course)
    granted = learner_client.get(course_access_url(pro_course)).json()
    assert granted["allowed"] is True
    assert granted["reason"] == "grant"


def test_warm_course_access_makes_no_query(
    subscribed_learner, learner_client, pro_course, django_assert_num_queries
):
    learner_client.get(course_access_url(pro_course))

    with django_assert_num_queries(0):
        response = learner_client.get(course_access_url(pro_course))

    assert response.status_code == 200


@pytest.mark.parametrize("course_id", ["999999", "abc", "1.json", "x" * 80])
def test_unknown_or_malformed_course_is_404(learner_client, course_id):
    assert_error(learner_client.get(f"/api/courses/{course_id}/access"), 404, "not_found")


def test_unpublished_course_is_404_for_learners(learner_client):
    course = CourseFactory(is_published=False)

    assert_error(learner_client.get(course_access_url(course)), 404, "not_found")


@pytest.mark.parametrize("rows", [1, 50])
def test_course_list_queries_do_not_grow(learner_client, django_assert_num_queries, rows):
    CourseFactory.create_batch(rows)
    learner_client.get("/api/courses")

    with django_assert_num_queries(2):
        response = learner_client.get("/api/courses?page_size=100")

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_plan_list_queries_do_not_grow(api_client, django_assert_num_queries, rows):
    PlanFactory.create_batch(rows, prices={"EUR": 900, "VND": 199_000})

    # the count, the page of plans, their prices (one query for all: prefetched)
    with django_assert_num_queries(3):
        response = api_client.get("/api/plans?page_size=100")

    assert response.json()["count"] == rows
    assert isinstance(response.json()["results"][0]["id"], str)


@pytest.mark.parametrize("rows", [1, 50])
def test_subscription_list_queries_do_not_grow(
    learner, learner_client, basic_plan, django_assert_num_queries, rows
):
    past = timezone.now() - dt.timedelta(days=400)
    SubscriptionFactory.create_batch(
        rows, user=learner, plan=basic_plan, status=SubscriptionStatus.EXPIRED, started_at=past
    )
    SubscriptionFactory(plan=basic_plan)  # someone else's
    learner_client.get("/api/subscriptions")

    with django_assert_num_queries(2):
        response = learner_client.get("/api/subscriptions?page_size=100")

    assert response.json()["count"] == rows


# --- subscriptions -----------------------------------------------------------------------------


def test_subscribe_then_access_shows_the_plan(learner_client, basic_plan):
    response = learner_client.post("/api/subscriptions", {"plan": "basic"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["plan"] == "basic"
    assert isinstance(response.json()["id"], str)
    access = learner_client.get(ACCESS).json()
    assert access["tier"] == 1
    assert access["ai_tokens"]["quota"] == 100


def test_second_subscription_is_409(subscribed_learner, learner_client, pro_plan):
    response = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json")

    error = assert_error(response, 409, "conflict")
    assert error["details"]["reason"] == "already_subscribed"
    assert Subscription.objects.filter(user=subscribed_learner).count() == 1


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"plan": "nope"}, 400, "validation_error"),
        ({}, 400, "validation_error"),
        ({"plan": ["basic"]}, 400, "validation_error"),
    ],
)
def test_subscribe_bad_input_changes_nothing(learner, learner_client, payload, status, code):
    PlanFactory(code="basic")

    assert_error(learner_client.post("/api/subscriptions", payload, format="json"), status, code)
    assert not Subscription.objects.filter(user=learner).exists()


def test_subscribe_to_inactive_plan_is_409(learner, learner_client):
    PlanFactory(code="retired", is_active=False)

    response = learner_client.post("/api/subscriptions", {"plan": "retired"}, format="json")

    assert assert_error(response, 409, "conflict")["details"]["reason"] == "plan_inactive"
    assert not Subscription.objects.filter(user=learner).exists()


def test_cancel_keeps_access_until_the_end(subscribed_learner, learner_client):
    subscription = Subscription.objects.get(user=subscribed_learner)

    response = learner_client.post(f"/api/subscriptions/{subscription.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["auto_renew"] is False
    assert learner_client.get(ACCESS).json()["tier"] == 1


def test_renew_extends_from_the_current_end(subscribed_learner, learner_client):
    subscription = Subscription.objects.get(user=subscribed_learner)
    old_end = subscription.ends_at

    response = learner_client.post(f"/api/subscriptions/{subscription.pk}/renew")

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.ends_at - old_end == dt.timedelta(days=30)


def test_switch_moves_to_the_new_plan(subscribed_learner, learner_client, pro_plan):
    subscription = Subscription.objects.get(user=subscribed_learner)

    response = learner_client.post(
        f"/api/subscriptions/{subscription.pk}/switch", {"plan": "pro"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["plan"] == "pro"
    access = learner_client.get(ACCESS).json()
    assert access["tier"] == 2
    assert access["ai_tokens"] == access["ai_tokens"] | {"quota": 500, "used": 10}


@pytest.mark.parametrize("action", ["", "/cancel", "/renew", "/switch"])
def test_someone_elses_subscription_is_404(learner_client, basic_plan, action):
    other = SubscriptionFactory(plan=basic_plan)

    response = learner_client.post(f"/api/subscriptions/{other.pk}{action}", {"plan": "basic"})
    if not action:
        response = learner_client.get(f"/api/subscriptions/{other.pk}")

    assert_error(response, 404, "not_found")
    other.refresh_from_db()
    assert other.status == SubscriptionStatus.ACTIVE


@pytest.mark.parametrize("raw_id", ["abc", "0", "%20", "9" * 70])
def test_malformed_subscription_id_is_404(learner_client, raw_id):
    assert_error(learner_client.post(f"/api/subscriptions/{raw_id}/cancel"), 404, "not_found")


# --- AI tokens ---------------------------------------------------------------------------------


def test_consume_spends_and_refreshes_the_cached_balance(subscribed_learner, learner_client):
    assert learner_client.get("/api/ai-tokens").json()["remaining"] == 90

    response = learner_client.post("/api/ai-tokens/consume", {"amount": 30}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["remaining"] == 60
    assert learner_client.get("/api/ai-tokens").json()["remaining"] == 60
    assert learner_client.get(ACCESS).json()["ai_tokens"]["used"] == 40


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"amount": 0}, 400, "validation_error"),
        ({"amount": -5}, 400, "validation_error"),
        ({"amount": "ten"}, 400, "validation_error"),
        ({"amount": 1.5}, 400, "validation_error"),
        ({"amount": True}, 400, "validation_error"),
        ({}, 400, "validation_error"),
        ({"amount": 91}, 409, "conflict"),
    ],
)
def test_consume_bad_input_changes_nothing(
    subscribed_learner, learner_client, payload, status, code
):
    response = learner_client.post("/api/ai-tokens/consume", payload, format="json")

    assert_error(response, status, code)
    assert AiTokenAccount.objects.get(user=subscribed_learner).used == 10


def test_consume_over_quota_says_what_is_left(subscribed_learner, learner_client):
    response = learner_client.post("/api/ai-tokens/consume", {"amount": 91}, format="json")

    details = assert_error(response, 409, "conflict")["details"]
    assert details == {"reason": "insufficient_tokens", "remaining": 90, "requested": 91}


def test_consume_in_a_new_month_starts_from_zero(learner, basic_plan, learner_client):
    SubscriptionFactory(user=learner, plan=basic_plan)
    AiTokenAccountFactory(user=learner, period_start=dt.date(2020, 1, 1), quota=100, used=100)

    response = learner_client.post("/api/ai-tokens/consume", {"amount": 5}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["used"] == 5


def test_consume_creates_the_account_from_the_plan(learner, basic_plan, learner_client):
    SubscriptionFactory(user=learner, plan=basic_plan)

    response = learner_client.post("/api/ai-tokens/consume", {"amount": 5}, format="json")

    assert response.json()["remaining"] == 95


def test_consume_without_subscription_is_409(learner, learner_client):
    response = learner_client.post("/api/ai-tokens/consume", {"amount": 1}, format="json")

    assert_error(response, 409, "conflict")


def test_other_users_are_unaffected(subscribed_learner, learner_client, basic_plan):
    other = UserFactory()
    SubscriptionFactory(user=other, plan=PlanFactory(code="pro", tier=2))
    other_client = bearer_client(other)
    assert other_client.get(ACCESS).json()["tier"] == 2

    learner_client.post("/api/ai-tokens/consume", {"amount": 1}, format="json")

    assert other_client.get(ACCESS).json()["tier"] == 2
    assert learner_client.get(ACCESS).json()["tier"] == 1
