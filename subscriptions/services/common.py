"""What every subscriptions service shares: the 409 reasons and the lookups that raise them."""

from typing import Any

from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from subscriptions.models import Plan, Subscription
from subscriptions.selectors import get_by_id

JOB_BATCH_SIZE = 1000


class Reason:
    """``details.reason`` of the 409 answers: what exactly conflicts."""

    ALREADY_SUBSCRIBED = "already_subscribed"
    PLAN_INACTIVE = "plan_inactive"
    SAME_PLAN = "same_plan"
    NOT_LIVE = "subscription_not_live"
    ALREADY_CANCELLED = "already_cancelled"
    INSUFFICIENT_TOKENS = "insufficient_tokens"
    CHANGED_CONCURRENTLY = "changed_concurrently"
    PLAN_NOT_PURCHASABLE = "plan_not_purchasable"
    CHECKOUT_REQUIRED = "checkout_required"
    RENEWS_AUTOMATICALLY = "renews_automatically"
    CURRENCY_NOT_OFFERED = "currency_not_offered"


def conflict(message: str, reason: str, **details: Any) -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT, message, status=409, details={"reason": reason, **details}
    )


def active_plan(plan_code: str) -> Plan:
    plan = Plan.objects.filter(code=plan_code).prefetch_related("prices").first()
    if plan is None:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The request is invalid."),
            details={"fields": {"plan": [_("Unknown plan.")]}},
        )
    if not plan.is_active:
        raise conflict(_("This plan is no longer offered."), Reason.PLAN_INACTIVE)
    return plan


def own_live_subscription(*, user, subscription_id: Any) -> Subscription:
    subscription = get_by_id(
        Subscription.objects.select_related("plan").filter(user=user),
        subscription_id,
        what="Subscription",
    )
    if not subscription.is_live:
        raise conflict(_("This subscription has ended."), Reason.NOT_LIVE)
    return subscription
