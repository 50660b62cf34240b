"""Every write path: the very next access check (served warm before it) reflects the change."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions import services
from subscriptions.models import AiTokenAccount, Plan, Subscription
from subscriptions.tests.factories import CourseFactory, CourseGrantFactory

pytestmark = pytest.mark.django_db

ACCESS = "/api/me/access"


@pytest.fixture
def warm(learner_client):
    """Serve the access check once so that the next one would be a cache hit."""

    def warm_up(url: str = ACCESS) -> dict:
        return learner_client.get(url).json()

    return warm_up


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _split(value: dt.datetime) -> dict:
    value = timezone.localtime(value)
    return {"0": value.date().isoformat(), "1": value.time().strftime("%H:%M:%S")}


def test_subscribe(learner, basic_plan, learner_client, warm):
    assert warm()["tier"] == 0

    services.subscription_create(user=learner, plan_code="basic")

    assert learner_client.get(ACCESS).json()["tier"] == 1


def test_cancel(subscribed_learner, learner_client, warm):
    subscription = Subscription.objects.get(user=subscribed_learner)
    assert warm()["subscription"]["status"] == "active"

    services.subscription_cancel(user=subscribed_learner, subscription_id=subscription.pk)

    body = learner_client.get(ACCESS).json()
    assert body["subscription"]["status"] == "cancelled"
    assert body["subscription"]["auto_renew"] is False


def test_renew(subscribed_learner, learner_client, warm):
    subscription = Subscription.objects.get(user=subscribed_learner)
    before = warm()["subscription"]["ends_at"]

    services.subscription_renew(user=subscribed_learner, subscription_id=subscription.pk)

    assert learner_client.get(ACCESS).json()["subscription"]["ends_at"] > before


def test_switch(subscribed_learner, pro_plan, learner_client, warm):
    subscription = Subscription.objects.get(user=subscribed_learner)
    assert warm()["tier"] == 1

    services.subscription_switch(
        user=subscribed_learner, subscription_id=subscription.pk, plan_code="pro"
    )

    body = learner_client.get(ACCESS).json()
    assert body["plan"]["code"] == "pro"
    assert body["ai_tokens"]["quota"] == 500


def test_grant_and_revoke(subscribed_learner, pro_course, learner_client, warm):
    url = f"/api/courses/{pro_course.pk}/access"
    assert warm(url)["allowed"] is False

    services.course_grant(user=subscribed_learner, course=pro_course)
    assert learner_client.get(url).json()["allowed"] is True
    assert learner_client.get(ACCESS).json()["grants"][0]["course"] == str(pro_course.pk)

    services.course_revoke(user=subscribed_learner, course=pro_course)
    assert learner_client.get(url).json()["allowed"] is False
    assert learner_client.get(ACCESS).json()["grants"] == []


def test_consume(subscribed_learner, learner_client, warm):
    assert warm()["ai_tokens"]["used"] == 10

    services.ai_tokens_consume(user=subscribed_learner, amount=7)

    assert learner_client.get(ACCESS).json()["ai_tokens"]["used"] == 17


def test_plan_edit_bumps_the_namespace(subscribed_learner, basic_plan, learner_client, warm):
    assert warm()["plan"]["name"] == "Basic"

    basic_plan.name = "Basic+"
    basic_plan.tier = 3
    basic_plan.save()

    body = learner_client.get(ACCESS).json()
    assert body["plan"] == {"code": "basic", "name": "Basic+", "tier": 3}


def test_course_edit(subscribed_learner, pro_course, learner_client, warm):
    url = f"/api/courses/{pro_course.pk}/access"
    assert warm(url)["allowed"] is False

    pro_course.min_tier = 1
    pro_course.save()

    assert learner_client.get(url).json()["allowed"] is True


def test_admin_edit_of_a_subscription(
    subscribed_learner, pro_plan, admin_client, learner_client, warm
):
    subscription = Subscription.objects.get(user=subscribed_learner)
    assert warm()["tier"] == 1
    started, ends = _split(subscription.started_at), _split(subscription.ends_at)

    response = admin_client.post(
        f"/admin/subscriptions/subscription/{subscription.pk}/change/",
        {
            "user": subscribed_learner.pk,
            "plan": pro_plan.pk,
            "status": "active",
            "started_at_0": started["0"],
            "started_at_1": started["1"],
            "ends_at_0": ends["0"],
            "ends_at_1": ends["1"],
            "auto_renew": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert learner_client.get(ACCESS).json()["tier"] == 2


def test_admin_expiring_a_subscription_frees_the_user(
    subscribed_learner, admin_client, learner_client, warm
):
    subscription = Subscription.objects.get(user=subscribed_learner)
    assert warm()["tier"] == 1
    started, ends = _split(subscription.started_at), _split(subscription.ends_at)

    response = admin_client.post(
        f"/admin/subscriptions/subscription/{subscription.pk}/change/",
        {
            "user": subscribed_learner.pk,
            "plan": subscription.plan_id,
            "status": "expired",
            "started_at_0": started["0"],
            "started_at_1": started["1"],
            "ends_at_0": ends["0"],
            "ends_at_1": ends["1"],
        },
    )

    assert response.status_code == 302
    assert learner_client.get(ACCESS).json()["tier"] == 0
    services.subscription_create(user=subscribed_learner, plan_code="basic")


def test_admin_refuses_a_second_live_subscription(subscribed_learner, basic_plan, admin_client):
    now = _split(timezone.now())
    later = _split(timezone.now() + dt.timedelta(days=5))

    response = admin_client.post(
        "/admin/subscriptions/subscription/add/",
        {
            "user": subscribed_learner.pk,
            "plan": basic_plan.pk,
            "status": "active",
            "started_at_0": now["0"],
            "started_at_1": now["1"],
            "ends_at_0": later["0"],
            "ends_at_1": later["1"],
        },
    )

    assert response.status_code == 200
    assert b"already has a live subscription" in response.content
    assert Subscription.objects.filter(user=subscribed_learner).count() == 1


def test_admin_edit_of_a_token_account(subscribed_learner, admin_client, learner_client, warm):
    account = AiTokenAccount.objects.get(user=subscribed_learner)
    assert warm()["ai_tokens"]["quota"] == 100

    response = admin_client.post(
        f"/admin/subscriptions/aitokenaccount/{account.pk}/change/",
        {
            "user": subscribed_learner.pk,
            "period_start": account.period_start.isoformat(),
            "quota": 250,
            "used": 0,
        },
    )

    assert response.status_code == 302
    assert learner_client.get(ACCESS).json()["ai_tokens"]["remaining"] == 250


def test_admin_plan_edit(subscribed_learner, basic_plan, admin_client, learner_client, warm):
    assert warm()["plan"]["name"] == "Basic"
    data = {
        field.name: getattr(basic_plan, field.name)
        for field in Plan._meta.fields
        if field.name != "id"
    }
    data.update(name="Basic (2027)", is_active="on")
    data.update({"prices-TOTAL_FORMS": 0, "prices-INITIAL_FORMS": 0})  # the price inline

    response = admin_client.post(f"/admin/subscriptions/plan/{basic_plan.pk}/change/", data)

    assert response.status_code == 302
    assert learner_client.get(ACCESS).json()["plan"]["name"] == "Basic (2027)"


def test_admin_grant_delete(subscribed_learner, admin_client, learner_client, warm):
    grant = CourseGrantFactory(user=subscribed_learner, course=CourseFactory(min_tier=5))
    assert len(warm()["grants"]) == 1

    response = admin_client.post(
        f"/admin/subscriptions/coursegrant/{grant.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert learner_client.get(ACCESS).json()["grants"] == []


def test_bulk_expiry_job_step(subscribed_learner, learner_client, warm):
    assert warm()["tier"] == 1
    Subscription.objects.filter(user=subscribed_learner).update(
        ends_at=timezone.now() - dt.timedelta(seconds=1)
    )

    assert services.subscriptions_expire_due() == 1
    assert services.subscriptions_expire_due() == 0

    body = learner_client.get(ACCESS).json()
    assert body["tier"] == 0
    assert body["ai_tokens"]["quota"] == 0


def test_bulk_token_reset_step(subscribed_learner, learner_client, warm):
    AiTokenAccount.objects.filter(user=subscribed_learner).update(
        period_start=dt.date(2020, 1, 1), used=100
    )
    assert warm()["ai_tokens"]["used"] == 0

    assert services.ai_tokens_reset_due() == 1
    assert services.ai_tokens_reset_due() == 0
    assert AiTokenAccount.objects.get(user=subscribed_learner).used == 0
