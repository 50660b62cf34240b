"""Staff see customers, payments and webhook events; a failed event can be replayed."""

import time

import pytest
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory
from payments.models import WebhookEvent, WebhookEventStatus
from payments.tests.conftest import sign
from payments.tests.test_webhooks import WEBHOOK, checkout_completed, invoice, tier
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser() -> Client:
    StaffFactory(email="ops@example.com", is_superuser=True)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops@example.com", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302, "the staff login failed"
    return client


def _deliver(client, payload: str):
    return client.post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)
    )


def test_a_failed_event_is_replayed_from_the_admin(
    fake_stripe, paid_plan, learner, learner_client, api_client, staff_browser
):
    # given: an invoice for a period ending in 40 days, naming only the Stripe subscription,
    # arrives before the checkout that links it: it fails
    body = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json").json()
    period_end = int(time.time()) + 40 * 86400
    early = invoice("invoice.paid", None, event_id="evt_early", period_end=period_end)
    assert _deliver(api_client, early).status_code == 503
    session_id = Subscription.objects.get(pk=body["id"]).checkout_session_id
    assert (
        _deliver(api_client, checkout_completed(body["id"], session_id=session_id)).status_code
        == 200
    )
    failed = WebhookEvent.objects.get(event_id="evt_early")
    assert failed.status == WebhookEventStatus.FAILED

    # when: staff see it and replay it
    listing = staff_browser.get("/admin/payments/webhookevent/?status=failed")
    assert b"evt_early" in listing.content
    response = staff_browser.post(
        "/admin/payments/webhookevent/",
        {"action": "replay_failed", "_selected_action": [str(failed.pk)]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert b"Replayed 1 event(s); 0 failed again." in response.content
    assert WebhookEvent.objects.get(event_id="evt_early").status == WebhookEventStatus.PROCESSED
    ends_at = Subscription.objects.get(pk=body["id"]).ends_at
    assert abs(ends_at.timestamp() - period_end) < 1
    assert tier(learner_client) == 2


@pytest.mark.parametrize(
    "page", ["/admin/payments/payment/", "/admin/payments/stripecustomer/",
             "/admin/payments/webhookevent/"],
)  # fmt: skip
def test_the_payment_pages_open(staff_browser, page):
    assert staff_browser.get(page).status_code == 200
