"""Paid plans: Checkout to start one, and the state changes Stripe's webhooks drive.

The rules (README "Payments"): a paid plan is active only after a paid Stripe event; a past-due
subscription keeps its slot (``live_key``) but gives no paid tier and no AI tokens until an
invoice is paid; a deleted Stripe Subscription ends ours at once. Events may arrive out of order:
each status change records the event's ``created`` time (``billing_event_at``) and an older event
never overrides it; a paid period only ever moves ``ends_at`` later.
"""

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically
from subscriptions import cache as access_cache
from subscriptions.models import Plan, PlanPrice, Subscription, SubscriptionStatus
from subscriptions.money import currency_for_language, is_known_currency, normalize_currency
from subscriptions.selectors import get_by_id
from subscriptions.services import stripe_gateway
from subscriptions.services.ai_tokens import sync_token_quota, zero_token_quotas
from subscriptions.services.common import Reason, conflict

DEV_SESSION_PREFIX = "cs_dev_"
DEV_SUBSCRIPTION_PREFIX = "sub_dev_"


def is_dev_billing(stripe_subscription_id: str | None) -> bool:
    """A Stripe Subscription the development checkout made up: no Stripe call for it."""
    return stripe_subscription_id is not None and stripe_subscription_id.startswith(
        DEV_SUBSCRIPTION_PREFIX
    )


def subscription_checkout_start(*, user, plan: Plan, currency: str | None = None) -> Subscription:
    """A ``pending`` subscription and its Checkout Session; nothing gives access yet.

    Allowed beside a live free or staff-granted subscription (the paid one replaces it once
    paid), not beside a Stripe-billed or past-due one (switch or renew that instead). The price is
    the plan's in ``currency`` (see ``checkout_price``); the subscription keeps that currency.
    """
    held = Subscription.objects.filter(live_key=str(user.pk)).first()
    if held and (held.stripe_subscription_id or held.status == SubscriptionStatus.PAST_DUE):
        raise conflict(
            _("You already have a paid subscription; switch or renew it instead."),
            Reason.ALREADY_SUBSCRIBED,
        )
    price = checkout_price(plan=plan, currency=currency, language=user.language)
    if not (price.stripe_price_id or settings.STRIPE_DEV_CHECKOUT or sold_inline(plan)):
        raise conflict(_("This plan cannot be bought online yet."), Reason.PLAN_NOT_PURCHASABLE)
    now = timezone.now()
    subscription = Subscription.objects.create(
        user=user,
        plan=plan,
        status=SubscriptionStatus.PENDING,
        started_at=now,
        ends_at=now,
        live_key=None,
        currency=price.currency,
    )
    try:
        session_id, url = _checkout_session(user=user, price=price, subscription=subscription)
    except Exception:
        subscription.delete()
        raise
    Subscription.objects.filter(pk=subscription.pk).update(
        checkout_session_id=session_id, checkout_url=url
    )
    subscription.checkout_session_id, subscription.checkout_url = session_id, url
    return subscription


def checkout_price(*, plan: Plan, currency: str | None, language: str | None) -> PlanPrice:
    """The price a learner pays: in ``currency`` when they name one (an unknown code is a 400,
    one the plan is not sold in a 409 ``currency_not_offered``, nothing created); else in their
    language's currency (``CURRENCY_BY_LANGUAGE``) when the plan is sold in it, else in the
    plan's first paid currency (alphabetical)."""
    offered = [price for price in plan.prices.all() if price.amount > 0]
    if currency is None:
        default = currency_for_language(language)
        return next((p for p in offered if p.currency == default), offered[0])
    code = normalize_currency(currency)
    if not is_known_currency(code):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The request is invalid."),
            details={"fields": {"currency": [_("Unknown currency (an ISO 4217 code: EUR, VND).")]}},
        )
    price = next((p for p in offered if p.currency == code), None)
    if price is None:
        raise conflict(
            _("This plan is not sold in %(currency)s.") % {"currency": code},
            Reason.CURRENCY_NOT_OFFERED,
            offered=[p.currency for p in offered],
        )
    return price


def sold_inline(plan: Plan) -> bool:
    """Checkout can send a price without a Stripe Price id (``price_data``): Stripe's recurring
    interval is at most a year (365 days)."""
    return 0 < plan.duration_days <= stripe_gateway.MAX_INTERVAL_DAYS


def _checkout_session(*, user, price: PlanPrice, subscription: Subscription) -> tuple[str, str]:
    if settings.STRIPE_DEV_CHECKOUT:
        session_id = DEV_SESSION_PREFIX + secrets.token_urlsafe(18)
        return session_id, reverse("payments-dev-checkout", kwargs={"session_id": session_id})
    return stripe_gateway.checkout_session_create(
        line_item=stripe_gateway.line_item(
            price_id=price.stripe_price_id,
            currency=price.currency,
            amount=price.amount,
            product_name=subscription.plan.name,
            interval_days=subscription.plan.duration_days,
        ),
        email=user.email,
        subscription_id=str(subscription.pk),
        customer_id=None,
    )


def billed_subscription(
    *, stripe_subscription_id: str | None = None, subscription_id: Any = None
) -> Subscription | None:
    """The subscription a Stripe object is about: by the Stripe id, else by our id in metadata."""
    queryset = Subscription.objects.select_related("plan")
    if stripe_subscription_id:
        found = queryset.filter(stripe_subscription_id=stripe_subscription_id).first()
        if found is not None:
            return found
    if subscription_id:
        try:
            return get_by_id(queryset, subscription_id, what="Subscription")
        except ApplicationError:
            return None
    return None


def _is_newer(subscription: Subscription, event_at: dt.datetime) -> bool:
    return subscription.billing_event_at is None or event_at >= subscription.billing_event_at


def _update_if_unchanged(subscription: Subscription, **changes: Any) -> None:
    """One conditional update on the state we read (no row locks); a lost race is a 409 and
    the webhook answers non-2xx, so Stripe delivers the event again."""
    updated = Subscription.objects.filter(
        pk=subscription.pk,
        status=subscription.status,
        billing_event_at=subscription.billing_event_at,
    ).update(**changes)
    if not updated:
        raise conflict(_("The subscription changed meanwhile."), Reason.CHANGED_CONCURRENTLY)
    for name, value in changes.items():
        setattr(subscription, name, value)


def subscription_billing_paid(
    *,
    subscription: Subscription,
    stripe_subscription_id: str,
    event_at: dt.datetime,
    period_end: dt.datetime | None = None,
) -> Subscription:
    """Checkout completed or an invoice paid: activate (or extend) the subscription.

    ``period_end`` is the paid period's end (invoices); a completed checkout without one gives a
    plan period from now. A subscription that ended by deletion or cancellation stays ended.
    """
    if subscription.status == SubscriptionStatus.EXPIRED and not subscription.auto_renew:
        return subscription
    now = timezone.now()
    if period_end is None:
        period_end = (
            subscription.ends_at
            if subscription.ends_at > now
            else now + dt.timedelta(days=subscription.plan.duration_days)
        )
    changes: dict[str, Any] = {
        "ends_at": max(subscription.ends_at, period_end),
        "stripe_subscription_id": stripe_subscription_id,
    }
    if _is_newer(subscription, event_at):
        changes["billing_event_at"] = event_at
        if subscription.status != SubscriptionStatus.CANCELLED:
            changes["status"] = SubscriptionStatus.ACTIVE
    if changes["ends_at"] > now:
        changes["live_key"] = str(subscription.user_id)

    def activate() -> None:
        Subscription.objects.filter(live_key=str(subscription.user_id)).exclude(
            pk=subscription.pk
        ).update(status=SubscriptionStatus.EXPIRED, live_key=None, ends_at=now)
        _update_if_unchanged(subscription, **changes)
        if subscription.status == SubscriptionStatus.ACTIVE and subscription.ends_at > now:
            quota = subscription.plan.ai_tokens_per_period
            sync_token_quota(user_id=subscription.user_id, quota=quota)

    atomically(activate)
    access_cache.invalidate(subscription.user_id, "sub", "ai")
    return subscription


def subscription_billing_failed(*, subscription: Subscription, event_at: dt.datetime) -> None:
    """A renewal could not be collected: past due, no paid tier (unless a newer event says paid)."""
    live = subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED)
    if not live or not _is_newer(subscription, event_at):
        return
    _update_if_unchanged(
        subscription, status=SubscriptionStatus.PAST_DUE, billing_event_at=event_at
    )
    zero_token_quotas(user_ids=[subscription.user_id], now=timezone.now())
    access_cache.invalidate(subscription.user_id, "sub", "ai")


def subscription_billing_ended(*, subscription: Subscription, event_at: dt.datetime) -> None:
    """The Stripe Subscription was deleted: ours ends now, whatever the order of events."""
    if subscription.status == SubscriptionStatus.EXPIRED and not subscription.auto_renew:
        return
    now = timezone.now()
    _update_if_unchanged(
        subscription,
        status=SubscriptionStatus.EXPIRED,
        live_key=None,
        ends_at=min(subscription.ends_at, now),
        auto_renew=False,
        cancelled_at=subscription.cancelled_at or now,
        billing_event_at=max(event_at, subscription.billing_event_at or event_at),
    )
    zero_token_quotas(user_ids=[subscription.user_id], now=now)
    access_cache.invalidate(subscription.user_id, "sub", "ai")


def subscription_billing_renewal_set(
    *, subscription: Subscription, cancel_at_period_end: bool, event_at: dt.datetime
) -> None:
    """Stripe says whether the subscription renews (``customer.subscription.updated``): the
    Customer Portal or the Dashboard may change it; ``auto_renew`` shows it truthfully."""
    live = subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED)
    if not live or not _is_newer(subscription, event_at):
        return
    now = timezone.now()
    _update_if_unchanged(
        subscription,
        status=SubscriptionStatus.CANCELLED if cancel_at_period_end else SubscriptionStatus.ACTIVE,
        auto_renew=not cancel_at_period_end,
        cancelled_at=(subscription.cancelled_at or now) if cancel_at_period_end else None,
        billing_event_at=event_at,
    )
    access_cache.invalidate(subscription.user_id, "sub")
