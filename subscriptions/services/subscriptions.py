"""Subscribe, renew, cancel and switch, and the staff's edits in the admin.

No row locks (MongoDB has none): every state change is a single conditional ``update()`` or an
INSERT guarded by a unique field, and each one invalidates the affected cache entries through
``subscriptions.cache``. Where a change spans two collections (a subscription and its token
account), the writes run in ``etrainer.db.atomic`` so that both land or neither does.

A paid plan (a price above zero in any currency) is never activated here: subscribing to one
starts a Stripe Checkout (``subscriptions.services.billing``), and renewing or switching a
Stripe-backed subscription goes through Stripe; only its webhooks change what the learner may open.
"""

import datetime as dt
from typing import Any

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from etrainer.db import atomically
from subscriptions import cache as access_cache
from subscriptions.models import HELD_STATUSES, Plan, PlanPrice, Subscription, SubscriptionStatus
from subscriptions.services import stripe_gateway
from subscriptions.services.ai_tokens import sync_token_quota, zero_token_quotas
from subscriptions.services.billing import is_dev_billing, subscription_checkout_start
from subscriptions.services.common import Reason, active_plan, conflict, own_live_subscription


def subscription_create(
    *, user, plan_code: str, currency: str | None = None, complimentary: bool = False
) -> Subscription:
    """Start a subscription now, or for a paid plan a ``pending`` one and its Stripe Checkout.

    A user has at most one live subscription: see ``Subscription.live_key``; the INSERT that
    loses a race is answered with 409. ``complimentary`` (staff, the demo seed) activates a paid
    plan without payment; the learner's own request never does. ``currency`` picks the paid
    plan's price (default: the learner's language's; ``billing.checkout_price``).
    """
    plan = active_plan(plan_code)
    expire_overdue(user_id=user.pk)
    if plan.is_paid and not complimentary:
        return subscription_checkout_start(user=user, plan=plan, currency=currency)
    now = timezone.now()
    subscription = Subscription(
        user=user,
        plan=plan,
        status=SubscriptionStatus.ACTIVE,
        started_at=now,
        ends_at=now + dt.timedelta(days=plan.duration_days),
        live_key=str(user.pk),
    )

    def insert_with_quota() -> None:
        subscription.save(force_insert=True)
        sync_token_quota(user_id=user.pk, quota=plan.ai_tokens_per_period)

    try:
        atomically(insert_with_quota)
    except IntegrityError:
        raise conflict(
            _("You already have a live subscription; switch or renew it instead."),
            Reason.ALREADY_SUBSCRIBED,
        ) from None
    invalidate_after_commit(user_id=user.pk)
    return subscription


def invalidate_after_commit(*, user_id: Any) -> None:
    """Invalidate again once the transaction has committed: a read between the in-transaction
    invalidation and the commit may have cached the state before it."""
    access_cache.invalidate(user_id, "sub", "ai")


def subscription_live_key(subscription: Subscription) -> str | None:
    """What ``live_key`` must hold for the subscription's status and end (admin edits)."""
    live = (
        subscription.status in HELD_STATUSES
        and subscription.user_id is not None
        and subscription.ends_at is not None
        and subscription.ends_at > timezone.now()
    )
    return str(subscription.user_id) if live else None


def subscription_staff_check(*, subscription: Subscription) -> None:
    """Refuse a staff edit (the admin) that would give its user a second live subscription."""
    live_key = subscription_live_key(subscription)
    clash = Subscription.objects.filter(live_key=live_key).exclude(pk=subscription.pk)
    if live_key and clash.exists():
        raise conflict(_("This user already has a live subscription."), Reason.ALREADY_SUBSCRIBED)


def subscription_staff_save(*, subscription: Subscription) -> Subscription:
    """Save a subscription as staff edited it (the admin), under the API's rules.

    The unique ``live_key`` keeps one live subscription per user (a lost race is the same 409).
    The AI-token quota follows the plan as in ``subscription_switch``: a subscription that is live
    after the edit and changed plan (or just became live) gives its user the plan's quota; one
    that stops being live leaves them none, as the expiry job does.
    """
    subscription_staff_check(subscription=subscription)
    before = Subscription.objects.filter(pk=subscription.pk).values("plan_id", "live_key").first()
    was_live = bool(before and before["live_key"])
    plan_changed = before is None or before["plan_id"] != subscription.plan_id
    subscription.live_key = subscription_live_key(subscription)

    def save_with_quota() -> None:
        subscription.save()
        if subscription.live_key and (plan_changed or not was_live):
            sync_token_quota(
                user_id=subscription.user_id, quota=subscription.plan.ai_tokens_per_period
            )
        elif was_live and not subscription.live_key:
            zero_token_quotas(user_ids=[subscription.user_id], now=timezone.now())

    try:
        atomically(save_with_quota)
    except IntegrityError:
        raise conflict(
            _("This user already has a live subscription."), Reason.ALREADY_SUBSCRIBED
        ) from None
    access_cache.invalidate(subscription.user_id, "ai")
    return subscription


def expire_overdue(*, user_id: Any) -> None:
    """A subscription past its end that the hourly job has not reached yet no longer blocks."""
    expired = Subscription.objects.filter(
        user_id=user_id, status__in=HELD_STATUSES, ends_at__lte=timezone.now()
    ).update(status=SubscriptionStatus.EXPIRED, live_key=None)
    if expired:
        access_cache.invalidate(user_id, "sub")


def subscription_cancel(*, user, subscription_id: Any) -> Subscription:
    """Stop auto-renewal; access lasts until ``ends_at``, when the expiry job ends it. A
    Stripe-billed subscription is set to ``cancel_at_period_end`` at Stripe first."""
    subscription = own_live_subscription(user=user, subscription_id=subscription_id)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise conflict(_("This subscription is already cancelled."), Reason.ALREADY_CANCELLED)
    if subscription.stripe_subscription_id and not is_dev_billing(
        subscription.stripe_subscription_id
    ):
        stripe_gateway.subscription_set_cancel_at_period_end(
            stripe_subscription_id=subscription.stripe_subscription_id, cancel=True
        )
    now = timezone.now()
    conditional_update(
        subscription,
        status=SubscriptionStatus.CANCELLED,
        cancelled_at=now,
        auto_renew=False,
    )
    return subscription


def subscription_renew(*, user, subscription_id: Any) -> Subscription:
    """Add one plan period from max(now, ends_at); a cancelled subscription becomes active again.

    A paid plan's periods are only ever added by Stripe's invoices: renewing a Stripe-billed
    subscription turns its renewal back on (``cancel_at_period_end`` off), without a new period.
    """
    subscription = own_live_subscription(user=user, subscription_id=subscription_id)
    if not subscription.plan.is_active:
        raise conflict(_("This plan is no longer offered."), Reason.PLAN_INACTIVE)
    if subscription.plan.is_paid:
        return _renew_through_stripe(subscription)
    start = max(timezone.now(), subscription.ends_at)
    conditional_update(
        subscription,
        status=SubscriptionStatus.ACTIVE,
        ends_at=start + dt.timedelta(days=subscription.plan.duration_days),
        cancelled_at=None,
        auto_renew=True,
    )
    return subscription


def _renew_through_stripe(subscription: Subscription) -> Subscription:
    if not subscription.stripe_subscription_id:
        raise conflict(
            _("This subscription is not billed online; subscribe through checkout to renew it."),
            Reason.CHECKOUT_REQUIRED,
        )
    if subscription.status == SubscriptionStatus.ACTIVE:
        raise conflict(
            _("This subscription already renews automatically."), Reason.RENEWS_AUTOMATICALLY
        )
    if not is_dev_billing(subscription.stripe_subscription_id):
        stripe_gateway.subscription_set_cancel_at_period_end(
            stripe_subscription_id=subscription.stripe_subscription_id, cancel=False
        )
    conditional_update(
        subscription, status=SubscriptionStatus.ACTIVE, cancelled_at=None, auto_renew=True
    )
    return subscription


def subscription_switch(*, user, subscription_id: Any, plan_code: str) -> Subscription:
    """Move the live subscription to another plan.

    The rule: the switch takes effect at once, in place (same subscription row, so the
    one-live-subscription rule never has a gap or an overlap); the new plan's full period starts
    now, without proration; auto-renew is back on; the AI-token quota becomes the new plan's for
    the current month, and tokens already used this month stay used.

    Stripe-billed: a paid target changes the Stripe Subscription's price (Stripe prorates) and
    the plan here at once, keeping the billing period; a free target cancels the Stripe
    Subscription now. Moving onto a paid plan without one needs a checkout (409).
    """
    subscription = own_live_subscription(user=user, subscription_id=subscription_id)
    plan = active_plan(plan_code)
    if plan.pk == subscription.plan_id:
        raise conflict(_("This subscription is already on that plan."), Reason.SAME_PLAN)
    if plan.is_paid or subscription.stripe_subscription_id:
        return _switch_through_stripe(subscription, plan)
    now = timezone.now()

    def switch_with_quota() -> None:
        conditional_update(
            subscription,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            started_at=now,
            ends_at=now + dt.timedelta(days=plan.duration_days),
            cancelled_at=None,
            auto_renew=True,
        )
        sync_token_quota(user_id=user.pk, quota=plan.ai_tokens_per_period)

    atomically(switch_with_quota)
    invalidate_after_commit(user_id=user.pk)
    return subscription


def conditional_update(subscription: Subscription, **changes: Any) -> None:
    """Apply ``changes`` only if the row is still as we read it (optimistic concurrency)."""
    updated = Subscription.objects.filter(
        pk=subscription.pk,
        status=subscription.status,
        ends_at=subscription.ends_at,
        plan_id=subscription.plan_id,
    ).update(**changes)
    access_cache.invalidate(subscription.user_id, "sub")
    if not updated:
        raise conflict(
            _("The subscription was changed by another request; try again."),
            Reason.CHANGED_CONCURRENTLY,
        )
    for name, value in changes.items():
        setattr(subscription, name, value)


def _switch_through_stripe(subscription: Subscription, plan: Plan) -> Subscription:
    """Reached for a paid target, or for a free one when the subscription is Stripe-billed: without
    a Stripe Subscription only the paid target is left, and it needs a checkout."""
    stripe_id = subscription.stripe_subscription_id
    if not stripe_id:
        raise conflict(
            _("Moving onto a paid plan needs a checkout: subscribe to it instead."),
            Reason.CHECKOUT_REQUIRED,
        )
    now = timezone.now()
    if plan.is_paid:
        price = switch_price(subscription, plan)
        if not is_dev_billing(stripe_id):
            stripe_gateway.subscription_change_price(
                stripe_subscription_id=stripe_id, price_id=price.stripe_price_id
            )
        changes = {"plan": plan, "status": SubscriptionStatus.ACTIVE, "cancelled_at": None}
        changes["auto_renew"] = True
    else:
        if not is_dev_billing(stripe_id):
            stripe_gateway.subscription_cancel_now(stripe_subscription_id=stripe_id)
        changes = {
            "plan": plan,
            "status": SubscriptionStatus.ACTIVE,
            "started_at": now,
            "ends_at": now + dt.timedelta(days=plan.duration_days),
            "cancelled_at": None,
            "auto_renew": True,
            "stripe_subscription_id": None,
        }

    def switch_with_quota() -> None:
        conditional_update(subscription, **changes)
        sync_token_quota(user_id=subscription.user_id, quota=plan.ai_tokens_per_period)

    atomically(switch_with_quota)
    invalidate_after_commit(user_id=subscription.user_id)
    return subscription


# Subscriptions from before per-currency prices carry none (migration 0005 fills in their plan's).
LEGACY_CURRENCY = "EUR"


def switch_price(subscription: Subscription, plan: Plan) -> PlanPrice:
    """The target plan's price in the currency the subscription is billed in (a Stripe
    Subscription has one currency); outside the development checkout it needs a Stripe Price id,
    since a Subscription update cannot create a product inline as Checkout does."""
    currency = subscription.currency or LEGACY_CURRENCY
    price = plan.price_in(currency)
    if price is None or price.amount == 0:
        raise conflict(
            _("This plan is not sold in %(currency)s, the currency you pay in.")
            % {"currency": currency},
            Reason.CURRENCY_NOT_OFFERED,
            offered=[p.currency for p in plan.prices.all() if p.amount > 0],
        )
    if not price.stripe_price_id and not is_dev_billing(subscription.stripe_subscription_id):
        raise conflict("This plan cannot be bought online yet.", Reason.PLAN_NOT_PURCHASABLE)
    return price
