"""The development checkout: the paid flow without Stripe keys, never in production."""

import pytest

from etrainer.tests.subprocess_env import manage, production_env
from payments.models import WebhookEvent
from subscriptions.models import Subscription
from subscriptions.services import subscription_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_checkout(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_DEV_CHECKOUT = True
    settings.STRIPE_WEBHOOK_SECRET = "whsec_local_development_only"


def test_without_stripe_keys_the_dev_checkout_walks_the_paid_flow(
    dev_checkout, paid_plan, learner, learner_client
):
    # given: a pending subscription pointing at the local checkout
    body = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json").json()
    assert body["status"] == "pending"
    assert "/api/payments/dev/checkout/cs_dev_" in body["checkout_url"]
    page = learner_client.get(body["checkout_url"])
    assert page.status_code == 200
    assert page.json()["plan"] == "pro"
    assert page.json()["price"] == {
        "amount": 1900, "currency": "EUR", "decimals": 2, "display": "€19.00",
    }  # fmt: skip
    assert learner_client.get("/api/me/access").json()["tier"] == 0

    # when
    response = learner_client.post(page.json()["complete_url"])

    # then: the same signed event went through the webhook's handling
    assert response.status_code == 200, response.content
    assert response.json()["type"] == "checkout.session.completed"
    assert WebhookEvent.objects.get(event_id=response.json()["event"]).status == "processed"
    assert learner_client.get("/api/me/access").json()["tier"] == 2
    sub = Subscription.objects.get(pk=body["id"])
    assert sub.stripe_subscription_id.startswith("sub_dev_")

    # and cancel/renew work locally without calling Stripe
    assert learner_client.post(f"/api/subscriptions/{body['id']}/cancel").status_code == 200
    renewed = learner_client.post(f"/api/subscriptions/{body['id']}/renew")
    assert (renewed.status_code, renewed.json()["auto_renew"]) == (200, True)


def test_another_learners_dev_session_is_404(dev_checkout, paid_plan, learner_client, staff_client):
    body = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json").json()

    response = staff_client.post(body["checkout_url"] + "/complete")

    assert response.status_code == 404
    assert Subscription.objects.get(pk=body["id"]).status == "pending"


def test_the_dev_checkout_is_404_when_off(settings, fake_stripe, paid_plan, learner_client):
    body = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json").json()
    session_id = Subscription.objects.get(pk=body["id"]).checkout_session_id

    response = learner_client.post(f"/api/payments/dev/checkout/{session_id}/complete")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Subscription.objects.get(pk=body["id"]).status == "pending"


@pytest.mark.slow
def test_production_settings_refuse_the_dev_checkout(tmp_path):
    env = {**production_env(tmp_path), "DJANGO_SETTINGS_MODULE": "etrainer.settings.production"}

    refused = manage("check", env={**env, "STRIPE_DEV_CHECKOUT": "true"})
    accepted = manage("check", env=env)

    assert refused.returncode != 0
    assert "STRIPE_DEV_CHECKOUT" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr


def test_a_staff_granted_paid_subscription_can_be_replaced_through_checkout(
    dev_checkout, paid_plan, premium_plan, learner, learner_client
):
    # given: the demo learner's kind of subscription, granted without payment
    granted = subscription_create(user=learner, plan_code="pro", complimentary=True)
    assert learner_client.get("/api/me/access").json()["tier"] == 2

    # when: renewing it would be a free period; buying premium goes through checkout
    renew = learner_client.post(f"/api/subscriptions/{granted.pk}/renew")
    body = learner_client.post("/api/subscriptions", {"plan": "premium"}, format="json").json()
    learner_client.post(body["checkout_url"] + "/complete")

    # then
    assert renew.status_code == 409
    assert renew.json()["error"]["details"]["reason"] == "checkout_required"
    assert Subscription.objects.get(pk=granted.pk).status == "expired"
    assert learner_client.get("/api/me/access").json()["tier"] == 3
