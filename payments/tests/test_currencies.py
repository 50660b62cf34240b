"""Paying in the learner's currency: a VND plan is charged and recorded in whole đồng (the real SDK
against the fake Stripe), the currency follows the request or the language, and a currency the
plan is not sold in changes nothing."""

import time

import pytest
from django.utils import translation

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from payments.models import Payment
from payments.tests.test_webhooks import checkout_completed, deliver, invoice
from subscriptions.models import Subscription
from subscriptions.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db
NBSP = "\xa0"


@pytest.fixture
def pro(db):
    """Sold in EUR at a Stripe Price, in VND without one (Checkout sends the amount itself)."""
    return PlanFactory(
        code="pro", name="Pro", tier=2, ai_tokens_per_period=500,
        prices={"EUR": (1900, "price_pro_eur"), "VND": 199_000},
    )  # fmt: skip


@pytest.fixture
def vi_learner(db):
    return UserFactory(language="vi")


@pytest.fixture
def vi_client(vi_learner):
    return bearer_client(vi_learner)


@pytest.fixture
def en_client():
    return bearer_client(UserFactory(language="en"))


def subscribe(client, **body):
    return client.post("/api/subscriptions", {"plan": "pro", **body}, format="json")


def in_vietnamese(client, path: str):
    with translation.override("vi"):
        return client.get(path, HTTP_ACCEPT_LANGUAGE="vi")


def test_a_vnd_plan_is_charged_recorded_and_shown_in_whole_dong(
    fake_stripe, pro, vi_client, api_client
):
    # when: a Vietnamese learner subscribes without naming a currency
    response = subscribe(vi_client)

    # then: Checkout is for 199000 VND (zero-decimal: whole đồng, not 19900000)
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "VND"
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    form = call["form"]
    assert form["line_items[0][price_data][currency]"] == "vnd"
    assert form["line_items[0][price_data][unit_amount]"] == "199000"
    assert form["line_items[0][price_data][recurring][interval]"] == "day"
    assert form["line_items[0][price_data][recurring][interval_count]"] == "30"
    assert form["line_items[0][price_data][product_data][name]"] == "Pro"
    assert "line_items[0][price]" not in form

    # when: Stripe reports the checkout and the invoice, in đồng
    sub = Subscription.objects.get(pk=response.json()["id"])
    paid = checkout_completed(str(sub.pk), session_id=sub.checkout_session_id)
    assert deliver(api_client, paid).status_code == 200
    period_end = int(time.time()) + 30 * 86400
    bill = invoice("invoice.paid", str(sub.pk), event_id="evt_vnd", period_end=period_end,
                   amount=199_000).replace('"currency": "eur"', '"currency": "vnd"')  # fmt: skip
    assert deliver(api_client, bill).status_code == 200

    # then: recorded as 199000 VND and shown to the learner as 199.000 ₫
    payment = Payment.objects.get(stripe_invoice_id="in_evt_vnd")
    assert (payment.amount, payment.currency) == (199_000, "VND")
    [receipt] = in_vietnamese(vi_client, "/api/payments").json()["results"]
    assert (receipt["amount"], receipt["currency"], receipt["decimals"]) == (199_000, "VND", 0)
    assert receipt["display"] == f"199.000{NBSP}₫"
    plans = in_vietnamese(vi_client, "/api/plans").json()["results"]
    assert f"199.000{NBSP}₫" in [price["display"] for price in plans[0]["prices"]]
    assert vi_client.get("/api/me/access").json()["tier"] == 2


def test_a_currency_with_a_stripe_price_checks_out_at_that_price(fake_stripe, pro, vi_client):
    response = subscribe(vi_client, currency="eur")

    assert response.status_code == 201, response.content
    assert Subscription.objects.get(pk=response.json()["id"]).currency == "EUR"
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert call["form"]["line_items[0][price]"] == "price_pro_eur"


def test_an_english_learner_pays_in_euro_by_default(fake_stripe, pro, en_client):
    response = subscribe(en_client)

    assert response.json()["currency"] == "EUR"
    [call] = fake_stripe.calls_to("POST", "/v1/checkout/sessions")
    assert call["form"]["line_items[0][price]"] == "price_pro_eur"


def test_a_plan_not_sold_in_the_language_currency_is_sold_in_its_own(fake_stripe, vi_client):
    PlanFactory(code="pro", tier=2, prices={"EUR": (1900, "price_pro_eur")})

    response = subscribe(vi_client)

    assert response.json()["currency"] == "EUR"


@pytest.mark.parametrize(
    ("currency", "status", "expected"),
    [
        # a Vietnamese learner reads the refusal in Vietnamese
        (
            "XYZ",
            400,
            {"fields": {"currency": ["Loại tiền tệ không xác định (cần mã ISO 4217: EUR, VND)."]}},
        ),
        ("USD", 409, {"reason": "currency_not_offered", "offered": ["EUR", "VND"]}),
        ("EU", 400, None),
    ],
)
def test_an_unknown_or_unsold_currency_is_refused_and_changes_nothing(
    fake_stripe, pro, vi_client, currency, status, expected
):
    response = subscribe(vi_client, currency=currency)

    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == ("conflict" if status == 409 else "validation_error")
    if expected is not None:
        assert error["details"] == expected
    assert not Subscription.objects.exists()
    assert fake_stripe.calls == []


def test_a_switch_keeps_the_currency_it_is_billed_in(fake_stripe, pro, vi_client, api_client):
    # given: a VND-billed subscription, a plan with a VND Stripe Price and one sold in EUR only
    PlanFactory(code="premium", tier=3, prices={"VND": (499_000, "price_premium_vnd")})
    PlanFactory(code="euro-only", tier=3, prices={"EUR": (4900, "price_euro_only")})
    body = subscribe(vi_client).json()
    sub = Subscription.objects.get(pk=body["id"])
    deliver(api_client, checkout_completed(body["id"], session_id=sub.checkout_session_id))
    fake_stripe.add_subscription("sub_1", price_id="price_pro_vnd")
    switch = f"/api/subscriptions/{body['id']}/switch"

    # when: to a plan not sold in VND
    refused = vi_client.post(switch, {"plan": "euro-only"}, format="json")

    # then: refused before any Stripe call
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["reason"] == "currency_not_offered"
    assert fake_stripe.calls_to("POST", "/v1/subscriptions/sub_1") == []

    # when: to the VND-priced plan
    moved = vi_client.post(switch, {"plan": "premium"}, format="json")

    # then: the Stripe Subscription moves to its VND price
    assert moved.status_code == 200, moved.content
    [update] = fake_stripe.calls_to("POST", "/v1/subscriptions/sub_1")
    assert update["form"]["items[0][price]"] == "price_premium_vnd"


@pytest.mark.parametrize("rows", [1, 20])
def test_my_payments_list_queries_do_not_grow(
    vi_learner, vi_client, django_assert_num_queries, rows
):
    for n in range(rows):
        Payment.objects.create(user=vi_learner, stripe_invoice_id=f"in_{n}", status="paid",
                               amount=199_000, currency="VND", plan_code="pro")  # fmt: skip
    Payment.objects.create(user=UserFactory(), stripe_invoice_id="in_other", status="paid")
    vi_client.get("/api/payments")  # the user entry of the hot-path authentication is cached

    with django_assert_num_queries(2):
        response = vi_client.get("/api/payments?page_size=100")

    assert response.json()["count"] == rows
    assert {p["invoice"] for p in response.json()["results"]} == {f"in_{n}" for n in range(rows)}
