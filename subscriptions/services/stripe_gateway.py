"""The Stripe API calls the subscriptions make, through the official SDK's ``StripeClient``.

``STRIPE_API_BASE`` (tests, local proxies) points the client at another host; a Stripe failure
becomes a 503 in the error envelope, never a traceback.
"""

from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ApplicationError(
            ErrorCode.SERVICE_UNAVAILABLE,
            _("Payments are not configured (STRIPE_SECRET_KEY)."),
            status=503,
        )
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        max_network_retries=1,
    )


def _provider_error(error: stripe.StripeError) -> ApplicationError:
    return ApplicationError(
        ErrorCode.SERVICE_UNAVAILABLE,
        _("The payment provider did not answer; nothing was changed, try again."),
        status=503,
        details={"provider_error": error.code or type(error).__name__},
    )


MAX_INTERVAL_DAYS = 365


def line_item(
    *, price_id: str, currency: str, amount: int, product_name: str, interval_days: int
) -> dict[str, Any]:
    """Checkout's one line: the Stripe Price when staff set one, else the price itself.

    ``unit_amount`` is in the currency's minor unit, which is what Stripe expects: 1900 for
    €19.00, 199000 for 199.000 ₫ (VND is zero-decimal at Stripe too: never multiplied by 100).
    """
    if price_id:
        return {"price": price_id, "quantity": 1}
    return {
        "price_data": {
            "currency": currency.lower(),
            "unit_amount": amount,
            "recurring": {"interval": "day", "interval_count": interval_days},
            "product_data": {"name": product_name},
        },
        "quantity": 1,
    }


def checkout_session_create(
    *, line_item: dict[str, Any], email: str, subscription_id: str, customer_id: str | None
) -> tuple[str, str]:
    """A Checkout Session (mode subscription) for one recurring line item: its (id, url).

    Our subscription's id travels as ``client_reference_id`` and in the Stripe Subscription's
    metadata, so that every later event (invoices included) names the row it is about.
    """
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [line_item],
        "client_reference_id": subscription_id,
        "metadata": {"subscription_id": subscription_id},
        "subscription_data": {"metadata": {"subscription_id": subscription_id}},
        "success_url": settings.STRIPE_CHECKOUT_SUCCESS_URL,
        "cancel_url": settings.STRIPE_CHECKOUT_CANCEL_URL,
    }
    if customer_id:
        params["customer"] = customer_id
    else:
        params["customer_email"] = email
    try:
        session = stripe_client().v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    except stripe.StripeError as error:
        raise _provider_error(error) from error
    return session.id, session.url or ""


def subscription_set_cancel_at_period_end(*, stripe_subscription_id: str, cancel: bool) -> None:
    try:
        stripe_client().v1.subscriptions.update(
            stripe_subscription_id, params={"cancel_at_period_end": cancel}
        )
    except stripe.StripeError as error:
        raise _provider_error(error) from error


def subscription_change_price(*, stripe_subscription_id: str, price_id: str) -> None:
    """Move the Stripe Subscription's one item to ``price_id``; Stripe prorates as it does."""
    client = stripe_client()
    try:
        current = client.v1.subscriptions.retrieve(stripe_subscription_id)
        item_id = current["items"]["data"][0]["id"]
        client.v1.subscriptions.update(
            stripe_subscription_id,
            params={
                "items": [{"id": item_id, "price": price_id}],
                "proration_behavior": "create_prorations",
                "cancel_at_period_end": False,
            },
        )
    except stripe.StripeError as error:
        raise _provider_error(error) from error


def subscription_cancel_now(*, stripe_subscription_id: str) -> None:
    try:
        stripe_client().v1.subscriptions.cancel(stripe_subscription_id)
    except stripe.StripeError as error:
        raise _provider_error(error) from error
