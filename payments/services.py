"""Stripe webhooks: verify, store once by event id, apply to the subscription it is about.

A verified event is stored before it is applied (``WebhookEvent.event_id`` is unique): a second
delivery of the same id changes nothing. One that failed to apply stays ``failed`` with its error;
Stripe's own retry (the webhook answers 503 then) or a staff replay from the admin applies it
again, through ``webhook_event_process``.
"""

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import unique_insert_savepoint
from payments.models import (
    Payment,
    PaymentStatus,
    StripeCustomer,
    WebhookEvent,
    WebhookEventStatus,
)
from subscriptions.models import Subscription
from subscriptions.services import billing

INVALID_SIGNATURE = "invalid_signature"


def webhook_receive(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify and store the event, apply it if new: ``(event, applied_now)``.

    A bad or missing signature (or no webhook secret configured) is a 400 and stores nothing.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    try:
        if not secret or not signature:
            raise stripe.SignatureVerificationError("missing signature", signature)
        stripe.Webhook.construct_event(payload, signature, secret)
        data = json.loads(payload)
        event_id, event_type, created = data["id"], data["type"], int(data["created"])
    except (ValueError, KeyError, TypeError, stripe.SignatureVerificationError) as error:
        raise ApplicationError(
            ErrorCode.BAD_REQUEST,
            _("The Stripe signature is missing or invalid."),
            details={"reason": INVALID_SIGNATURE},
        ) from error
    try:
        with unique_insert_savepoint():
            event = WebhookEvent.objects.create(
                event_id=event_id,
                type=event_type,
                created=dt.datetime.fromtimestamp(created, tz=dt.UTC),
                payload=data,
            )
    except IntegrityError:
        event = WebhookEvent.objects.get(event_id=event_id)
        if event.status != WebhookEventStatus.FAILED:
            return event, False
    webhook_event_process(event=event)
    return event, True


def webhook_event_process(*, event: WebhookEvent) -> WebhookEvent:
    """Apply a stored event (first delivery, Stripe's retry of a failed one, or a staff replay)."""
    handler = HANDLERS.get(event.type)
    now = timezone.now()
    if handler is None:
        status, error = WebhookEventStatus.IGNORED, ""
    else:
        try:
            handler(event.payload["data"]["object"], event.created)
            status, error = WebhookEventStatus.PROCESSED, ""
        except (ApplicationError, DatabaseError, LookupError, TypeError, ValueError) as exc:
            status, error = WebhookEventStatus.FAILED, f"{type(exc).__name__}: {exc}"
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=error, processed_at=now, attempts=event.attempts + 1
    )
    event.status, event.error, event.processed_at = status, error, now
    event.attempts += 1
    return event


def webhook_event_replay(*, event: WebhookEvent) -> WebhookEvent:
    """Staff replay (admin action): only a failed event is applied again."""
    if event.status != WebhookEventStatus.FAILED:
        raise ApplicationError(
            ErrorCode.CONFLICT, _("Only a failed event can be replayed."), status=409
        )
    return webhook_event_process(event=event)


class UnknownSubscription(LookupError):
    """The event names no subscription of ours (yet): failed, so that a replay can apply it."""


def _subscription_for(obj: dict, *, stripe_id: str | None) -> Subscription:
    metadata = obj.get("metadata") or {}
    found = billing.billed_subscription(
        stripe_subscription_id=stripe_id,
        subscription_id=metadata.get("subscription_id") or obj.get("client_reference_id"),
    )
    if found is None:
        raise UnknownSubscription(f"no subscription for {obj.get('id')} (Stripe: {stripe_id})")
    return found


def _customer_record(*, subscription: Subscription, customer_id: str | None) -> None:
    if not customer_id:
        return
    if StripeCustomer.objects.filter(stripe_customer_id=customer_id).exists():
        return
    StripeCustomer.objects.filter(user_id=subscription.user_id).delete()
    try:
        with unique_insert_savepoint():
            StripeCustomer.objects.create(
                user_id=subscription.user_id, stripe_customer_id=customer_id
            )
    except IntegrityError:
        pass


def _checkout_completed(obj: dict, created: dt.datetime) -> None:
    if obj.get("mode") != "subscription" or obj.get("payment_status") == "unpaid":
        return
    subscription = _subscription_for(obj, stripe_id=obj.get("subscription"))
    if subscription.checkout_session_id and subscription.checkout_session_id != obj.get("id"):
        raise UnknownSubscription(f"session {obj.get('id')} is not this subscription's")
    _customer_record(subscription=subscription, customer_id=obj.get("customer"))
    billing.subscription_billing_paid(
        subscription=subscription,
        stripe_subscription_id=obj["subscription"],
        event_at=created,
    )


def _invoice_subscription(obj: dict) -> tuple[str | None, dict]:
    """The Stripe Subscription id and its metadata (API versions before and after 2025-03)."""
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    stripe_id = details.get("subscription") or obj.get("subscription")
    metadata = details.get("metadata") or (obj.get("subscription_details") or {}).get("metadata")
    return stripe_id, metadata or {}


def _period_end(obj: dict) -> dt.datetime | None:
    ends = [line["period"]["end"] for line in (obj.get("lines") or {}).get("data", [])]
    return dt.datetime.fromtimestamp(max(ends), tz=dt.UTC) if ends else None


def _invoice(obj: dict, created: dt.datetime, status: str) -> tuple[Subscription, str]:
    """Record the invoice's payment once; the subscription and its Stripe id."""
    stripe_id, metadata = _invoice_subscription(obj)
    subscription = _subscription_for({**obj, "metadata": metadata}, stripe_id=stripe_id)
    if not stripe_id:
        raise UnknownSubscription(f"invoice {obj.get('id')} names no subscription")
    amount = obj.get("amount_paid") if status == PaymentStatus.PAID else obj.get("amount_due")
    if not Payment.objects.filter(stripe_invoice_id=obj["id"], status=status).exists():
        try:
            with unique_insert_savepoint():
                Payment.objects.create(
                    user_id=subscription.user_id,
                    subscription=subscription,
                    plan_code=subscription.plan.code,
                    stripe_invoice_id=obj["id"],
                    stripe_customer_id=obj.get("customer") or "",
                    status=status,
                    amount=amount or 0,  # Stripe's minor unit: whole đồng for VND, no /100
                    currency=(obj.get("currency") or "").upper(),
                    period_end=_period_end(obj),
                )
        except IntegrityError:
            pass
    return subscription, stripe_id


def _invoice_paid(obj: dict, created: dt.datetime) -> None:
    subscription, stripe_id = _invoice(obj, created, PaymentStatus.PAID)
    billing.subscription_billing_paid(
        subscription=subscription,
        stripe_subscription_id=stripe_id,
        event_at=created,
        period_end=_period_end(obj),
    )


def _invoice_failed(obj: dict, created: dt.datetime) -> None:
    subscription, _ = _invoice(obj, created, PaymentStatus.FAILED)
    billing.subscription_billing_failed(subscription=subscription, event_at=created)


def _subscription_deleted(obj: dict, created: dt.datetime) -> None:
    subscription = billing.billed_subscription(stripe_subscription_id=obj.get("id"))
    if subscription is None:
        return
    billing.subscription_billing_ended(subscription=subscription, event_at=created)


def _subscription_updated(obj: dict, created: dt.datetime) -> None:
    subscription = billing.billed_subscription(stripe_subscription_id=obj.get("id"))
    if subscription is None:
        return
    billing.subscription_billing_renewal_set(
        subscription=subscription,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        event_at=created,
    )


HANDLERS: dict[str, Callable[[dict, dt.datetime], Any]] = {
    "checkout.session.completed": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.deleted": _subscription_deleted,
    "customer.subscription.updated": _subscription_updated,
}


def dev_checkout_session(*, user, session_id: str) -> Subscription:
    """The learner's pending subscription behind a development checkout session (else 404)."""
    subscription = (
        Subscription.objects.select_related("plan")
        .filter(user=user, checkout_session_id=session_id)
        .first()
    )
    if not settings.STRIPE_DEV_CHECKOUT or subscription is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("No such checkout session."), status=404)
    return subscription


def dev_checkout_complete(*, user, session_id: str) -> WebhookEvent:
    """Pay a development checkout: the ``checkout.session.completed`` event Stripe would send,
    signed with the local webhook secret, goes through ``webhook_receive`` like Stripe's."""
    subscription = dev_checkout_session(user=user, session_id=session_id)
    pk = str(subscription.pk)
    payload = json.dumps(
        {
            "id": f"evt_dev_{secrets.token_hex(12)}",
            "object": "event",
            "type": "checkout.session.completed",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": session_id,
                    "object": "checkout.session",
                    "mode": "subscription",
                    "payment_status": "paid",
                    "client_reference_id": pk,
                    "customer": f"cus_dev_{user.pk}",
                    "subscription": billing.DEV_SUBSCRIPTION_PREFIX + secrets.token_hex(8),
                    "metadata": {"subscription_id": pk},
                }
            },
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(
        payload, settings.STRIPE_WEBHOOK_SECRET
    )
    event, _ = webhook_receive(payload=payload.encode(), signature=header)
    return event
