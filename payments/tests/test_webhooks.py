"""The paid flow end to end: checkout (the real SDK against a fake Stripe on loopback), Stripe's
signed webhooks, and what the learner may open after each event."""

import datetime as dt
import time

import pytest

from payments.models import Payment, StripeCustomer, WebhookEvent, WebhookEventStatus
from payments.tests.conftest import event, sign
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.services import subscriptions_expire_due

WEBHOOK = "/api/payments/stripe/webhook"
pytestmark = pytest.mark.django_db


def deliver(client, payload: str, signature: str | None = None, *, signed: bool = True):
    headers = {}
    if signed:
        headers["HTTP_STRIPE_SIGNATURE"] = signature or sign(payload)
    return client.post(WEBHOOK, data=payload, content_type="application/json", **headers)


def tier(client) -> int:
    return client.get("/api/me/access").json()["tier"]


def checkout_completed(subscription_id: str, *, session_id: str, event_id: str = "evt_checkout",
                       stripe_id: str = "sub_1", created: int | None = None) -> str:  # fmt: skip
    return event(
        "checkout.session.completed",
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "payment_status": "paid",
            "client_reference_id": subscription_id,
            "customer": "cus_1",
            "subscription": stripe_id,
            "metadata": {"subscription_id": subscription_id},
        },
        event_id=event_id,
        created=created,
    )


def invoice(
    event_type: str,
    subscription_id: str | None,
    *,
    event_id: str,
    period_end: int,
    created: int | None = None,
    stripe_id: str = "sub_1",
    amount: int = 1900,
) -> str:
    details = {"subscription": stripe_id}
    if subscription_id:
        details["metadata"] = {"subscription_id": subscription_id}
    return event(
        event_type,
        {
            "id": f"in_{event_id}",
            "object": "invoice",
            "customer": "cus_1",
            "currency": "eur",
            "amount_paid": amount if event_type == "invoice.paid" else 0,
            "amount_due": amount,
            "parent": {"type": "subscription_details", "subscription_details": details},
            "lines": {"object": "list", "data": [{"period": {"start": 0, "end": period_end}}]},
        },
        event_id=event_id,
        created=created,
    )


def subscription_deleted(*, event_id: str, stripe_id: str = "sub_1") -> str:
    obj = {"id": stripe_id, "object": "subscription", "status": "canceled"}
    return event("customer.subscription.deleted", obj, event_id=event_id)


def start_checkout(client) -> dict:
    response = client.post("/api/subscriptions", {"plan": "pro"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def subscribed(client, api_client, created: int | None = None) -> dict:
    """A learner whose checkout for the pro plan completed (Stripe subscription ``sub_1``)."""
    body = start_checkout(client)
    sub = Subscription.objects.get(pk=body["id"])
    payload = checkout_completed(body["id"], session_id=sub.checkout_session_id, created=created)
    assert deliver(api_client, payload).status_code == 200
    return body


def test_a_paid_plan_is_pending_until_a_signed_checkout_completed(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # when
    body = start_checkout(learner_client)

    # then: pending, a Stripe Checkout Session for the plan's recurring price, no paid tier
    assert body["status"] == "pending"
    assert body["checkout_url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert call["auth"] == "Bearer sk_test_fake"
    assert call["form"]["mode"] == "subscription"
    assert call["form"]["line_items[0][price]"] == "price_pro_monthly"
    assert call["form"]["client_reference_id"] == body["id"]
    assert call["form"]["subscription_data[metadata][subscription_id]"] == body["id"]
    assert tier(learner_client) == 0

    # when: Stripe reports the payment
    sub = Subscription.objects.get(pk=body["id"])
    payload = checkout_completed(body["id"], session_id=sub.checkout_session_id)
    response = deliver(api_client, payload)

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processed"
    access = learner_client.get("/api/me/access").json()
    assert access["tier"] == 2
    assert access["plan"]["code"] == "pro"
    assert access["ai_tokens"]["quota"] == 500
    mine = learner_client.get(f"/api/subscriptions/{body['id']}").json()
    assert (mine["status"], mine["auto_renew"], mine["checkout_url"]) == ("active", True, "")


def _forged(payload: str) -> dict:
    old = int(time.time()) - 3600
    return {
        "unsigned": None,
        "wrong secret": sign(payload, secret="whsec_attacker"),
        "other payload": sign(payload.replace("paid", "unpaid")),
        "stale timestamp": sign(payload, timestamp=old),
        "garbage header": "t=1,v1=deadbeef",
    }


@pytest.mark.parametrize(
    "kind", ["unsigned", "wrong secret", "other payload", "stale timestamp", "garbage header"]
)
def test_a_forged_or_unsigned_event_is_refused_and_changes_nothing(
    fake_stripe, paid_plan, learner, learner_client, api_client, kind
):
    # given
    body = start_checkout(learner_client)
    sub = Subscription.objects.get(pk=body["id"])
    payload = checkout_completed(body["id"], session_id=sub.checkout_session_id)

    # when
    signature = _forged(payload)[kind]
    response = deliver(api_client, payload, signature, signed=signature is not None)

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]["reason"]) == ("bad_request", "invalid_signature")
    assert WebhookEvent.objects.count() == 0
    assert Subscription.objects.get(pk=body["id"]).status == SubscriptionStatus.PENDING
    assert tier(learner_client) == 0


def test_a_replayed_event_changes_nothing(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given: paid, then the renewal failed (past due, no paid tier)
    body = start_checkout(learner_client)
    sub = Subscription.objects.get(pk=body["id"])
    completed = checkout_completed(body["id"], session_id=sub.checkout_session_id)
    assert deliver(api_client, completed).status_code == 200
    failed = invoice("invoice.payment_failed", body["id"], event_id="evt_failed",
                     period_end=int(time.time()) + 86400, created=int(time.time()) + 5)  # fmt: skip
    assert deliver(api_client, failed).status_code == 200
    assert tier(learner_client) == 0

    # when: the checkout event is sent again (same id, freshly signed)
    response = deliver(api_client, completed)

    # then
    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert WebhookEvent.objects.filter(event_id="evt_checkout").get().attempts == 1
    assert Subscription.objects.get(pk=body["id"]).status == SubscriptionStatus.PAST_DUE
    assert tier(learner_client) == 0


def test_a_payment_failure_takes_the_paid_tier_away_until_an_invoice_is_paid(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given
    body = subscribed(learner_client, api_client)
    assert tier(learner_client) == 2
    now = int(time.time())

    # when: the renewal fails
    failed = invoice("invoice.payment_failed", body["id"], event_id="evt_f", period_end=now + 86400,
                     created=now + 10)  # fmt: skip
    assert deliver(api_client, failed).status_code == 200

    # then: past due, tier and tokens gone; a second subscription is still refused
    mine = learner_client.get(f"/api/subscriptions/{body['id']}").json()
    assert mine["status"] == "past_due"
    access = learner_client.get("/api/me/access").json()
    assert (access["tier"], access["ai_tokens"]["quota"]) == (0, 0)
    again = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json")
    assert again.status_code == 409
    assert Payment.objects.get(stripe_invoice_id="in_evt_f").status == "failed"

    # when: the retried invoice is paid, for a period ending in 40 days
    period_end = now + 40 * 86400
    paid = invoice("invoice.paid", body["id"], event_id="evt_p", period_end=period_end,
                   created=now + 20)  # fmt: skip
    assert deliver(api_client, paid).status_code == 200

    # then
    assert tier(learner_client) == 2
    sub = Subscription.objects.get(pk=body["id"])
    assert sub.status == SubscriptionStatus.ACTIVE
    assert abs(sub.ends_at.timestamp() - period_end) < 1
    assert Payment.objects.get(stripe_invoice_id="in_evt_p").amount == 1900


def test_events_out_of_order_never_let_an_older_one_win(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given: pending checkout
    body = start_checkout(learner_client)
    now = int(time.time())

    # when: the first invoice.paid arrives before checkout.session.completed
    first = invoice("invoice.paid", body["id"], event_id="evt_1", period_end=now + 30 * 86400,
                    created=now)  # fmt: skip
    assert deliver(api_client, first).status_code == 200

    # then: the invoice (our id is in the Stripe Subscription's metadata) activates it
    assert tier(learner_client) == 2

    # when: a newer failure, then an older paid invoice
    newer_failure = invoice("invoice.payment_failed", body["id"], event_id="evt_3",
                            period_end=now + 60 * 86400, created=now + 100)  # fmt: skip
    older_paid = invoice("invoice.paid", body["id"], event_id="evt_2",
                         period_end=now + 30 * 86400, created=now + 50)  # fmt: skip
    assert deliver(api_client, newer_failure).status_code == 200
    assert deliver(api_client, older_paid).status_code == 200

    # then: the newer failure stands
    assert Subscription.objects.get(pk=body["id"]).status == SubscriptionStatus.PAST_DUE
    assert tier(learner_client) == 0


def test_cancel_sets_cancel_at_period_end_and_access_lasts_until_the_end(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given
    body = subscribed(learner_client, api_client)
    fake_stripe.add_subscription("sub_1", "price_pro_monthly")

    # when
    response = learner_client.post(f"/api/subscriptions/{body['id']}/cancel")

    # then: Stripe is told, auto_renew shows it, the tier stays until ends_at
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["auto_renew"]) == ("cancelled", False)
    [call] = fake_stripe.calls_to("POST", "/v1/subscriptions/sub_1")
    assert call["form"] == {"cancel_at_period_end": "true"}
    assert fake_stripe.subscriptions["sub_1"]["cancel_at_period_end"] is True
    assert tier(learner_client) == 2

    # when: the period ends
    ends_at = Subscription.objects.get(pk=body["id"]).ends_at
    subscriptions_expire_due(now=ends_at + dt.timedelta(seconds=1))

    # then
    assert tier(learner_client) == 0


def test_renew_turns_stripe_renewal_back_on_without_a_free_period(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given: a cancelled (cancel_at_period_end) paid subscription
    body = subscribed(learner_client, api_client)
    fake_stripe.add_subscription("sub_1", "price_pro_monthly")
    learner_client.post(f"/api/subscriptions/{body['id']}/cancel")
    ends_at = Subscription.objects.get(pk=body["id"]).ends_at

    # when
    response = learner_client.post(f"/api/subscriptions/{body['id']}/renew")

    # then
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["auto_renew"]) == ("active", True)
    assert fake_stripe.subscriptions["sub_1"]["cancel_at_period_end"] is False
    assert Subscription.objects.get(pk=body["id"]).ends_at == ends_at

    # and renewing again adds nothing: Stripe's invoices extend it
    again = learner_client.post(f"/api/subscriptions/{body['id']}/renew")
    assert again.status_code == 409
    assert again.json()["error"]["details"]["reason"] == "renews_automatically"
    assert Subscription.objects.get(pk=body["id"]).ends_at == ends_at


def test_switching_paid_plans_changes_the_stripe_price_and_the_tier(
    fake_stripe, paid_plan, premium_plan, learner, learner_client, api_client
):
    # given
    body = subscribed(learner_client, api_client)
    fake_stripe.add_subscription("sub_1", "price_pro_monthly")

    # when
    response = learner_client.post(
        f"/api/subscriptions/{body['id']}/switch", {"plan": "premium"}, format="json"
    )

    # then
    assert response.status_code == 200, response.content
    [call] = fake_stripe.calls_to("POST", "/v1/subscriptions/sub_1")
    assert call["form"]["items[0][id]"] == "si_sub_1"
    assert call["form"]["items[0][price]"] == "price_premium_monthly"
    assert call["form"]["proration_behavior"] == "create_prorations"
    assert tier(learner_client) == 3


def test_switching_a_free_subscription_to_a_paid_plan_needs_a_checkout(
    fake_stripe, free_plan, paid_plan, learner, learner_client
):
    body = learner_client.post("/api/subscriptions", {"plan": "free"}, format="json").json()
    assert body["status"] == "active"

    response = learner_client.post(
        f"/api/subscriptions/{body['id']}/switch", {"plan": "pro"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"]["reason"] == "checkout_required"
    assert tier(learner_client) == 0


def test_a_paid_checkout_replaces_a_live_free_subscription(
    fake_stripe, free_plan, paid_plan, learner, learner_client, api_client
):
    free = learner_client.post("/api/subscriptions", {"plan": "free"}, format="json").json()

    paid = subscribed(learner_client, api_client)

    assert Subscription.objects.get(pk=free["id"]).status == SubscriptionStatus.EXPIRED
    assert Subscription.objects.get(pk=paid["id"]).status == SubscriptionStatus.ACTIVE
    assert tier(learner_client) == 2


def test_a_deleted_stripe_subscription_ends_access_at_once(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given
    body = subscribed(learner_client, api_client)
    assert tier(learner_client) == 2

    # when
    assert deliver(api_client, subscription_deleted(event_id="evt_del")).status_code == 200

    # then
    sub = Subscription.objects.get(pk=body["id"])
    assert (sub.status, sub.auto_renew) == (SubscriptionStatus.EXPIRED, False)
    assert tier(learner_client) == 0
    # a late paid invoice does not bring an ended subscription back
    late = invoice("invoice.paid", body["id"], event_id="evt_late",
                   period_end=int(time.time()) + 86400)  # fmt: skip
    assert deliver(api_client, late).status_code == 200
    assert tier(learner_client) == 0


def test_stripe_down_at_checkout_is_a_503_and_leaves_no_pending_subscription(
    fake_stripe, paid_plan, learner, learner_client
):
    fake_stripe.fail = True

    response = learner_client.post("/api/subscriptions", {"plan": "pro"}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert not Subscription.objects.filter(user=learner).exists()


def test_an_event_that_cannot_be_applied_is_kept_failed_and_answered_503(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # an invoice naming only a Stripe subscription we do not know (yet)
    payload = invoice("invoice.paid", None, event_id="evt_early", stripe_id="sub_unknown",
                      period_end=int(time.time()) + 86400)  # fmt: skip

    response = deliver(api_client, payload)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    stored = WebhookEvent.objects.get(event_id="evt_early")
    assert stored.status == WebhookEventStatus.FAILED
    assert "sub_unknown" in stored.error


def test_payment_records_survive_the_user_anonymised(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    body = subscribed(learner_client, api_client)
    paid = invoice("invoice.paid", body["id"], event_id="evt_p",
                   period_end=int(time.time()) + 86400 * 30)  # fmt: skip
    deliver(api_client, paid)

    learner.delete()

    payment = Payment.objects.get(stripe_invoice_id="in_evt_p")
    assert (payment.user_id, payment.subscription_id) == (None, None)
    assert (payment.amount, payment.plan_code) == (1900, "pro")
    assert StripeCustomer.objects.get(stripe_customer_id="cus_1").user_id is None


def test_a_renewal_turned_off_at_stripe_shows_as_auto_renew_false(
    fake_stripe, paid_plan, learner, learner_client, api_client
):
    # given
    body = subscribed(learner_client, api_client, created=int(time.time()) - 10)
    obj = {"id": "sub_1", "object": "subscription", "cancel_at_period_end": True}

    # when: the learner cancels in Stripe's Customer Portal
    updated = event("customer.subscription.updated", obj, event_id="evt_upd")
    assert deliver(api_client, updated).status_code == 200

    # then: shown truthfully, access kept until the end
    mine = learner_client.get(f"/api/subscriptions/{body['id']}").json()
    assert (mine["status"], mine["auto_renew"]) == ("cancelled", False)
    assert tier(learner_client) == 2
