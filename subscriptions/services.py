"""Writes: subscribe, renew, cancel, switch, grants, AI tokens, and the bulk jobs' steps.

No row locks (MongoDB has none): every state change is a single conditional ``update()`` or an
INSERT guarded by a unique field, and each one invalidates the affected cache entries through
``subscriptions.cache``. Where a change spans two collections (a subscription and its token
account), the writes run in ``etrainer.db.atomic`` so that both land or neither does.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import atomically, unique_insert_savepoint
from monitoring.metrics import record_ai_tokens_spent
from notifications.models import NotificationKind
from notifications.services import NotificationDraft, notifications_create_many
from subscriptions import cache as access_cache
from subscriptions.models import (
    LIVE_STATUSES,
    AiTokenAccount,
    Course,
    CourseGrant,
    GrantSource,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.selectors import ai_entry, current_period_start, get_by_id, live_subscription


class Reason:
    """``details.reason`` of the 409 answers: what exactly conflicts."""

    ALREADY_SUBSCRIBED = "already_subscribed"
    PLAN_INACTIVE = "plan_inactive"
    SAME_PLAN = "same_plan"
    NOT_LIVE = "subscription_not_live"
    ALREADY_CANCELLED = "already_cancelled"
    INSUFFICIENT_TOKENS = "insufficient_tokens"
    CHANGED_CONCURRENTLY = "changed_concurrently"


def _conflict(message: str, reason: str, **details: Any) -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT, message, status=409, details={"reason": reason, **details}
    )


def _active_plan(plan_code: str) -> Plan:
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The request is invalid.",
            details={"fields": {"plan": ["Unknown plan."]}},
        )
    if not plan.is_active:
        raise _conflict("This plan is no longer offered.", Reason.PLAN_INACTIVE)
    return plan


def _own_live_subscription(*, user, subscription_id: Any) -> Subscription:
    subscription = get_by_id(
        Subscription.objects.select_related("plan").filter(user=user),
        subscription_id,
        what="Subscription",
    )
    if not subscription.is_live:
        raise _conflict("This subscription has ended.", Reason.NOT_LIVE)
    return subscription


def subscription_create(*, user, plan_code: str) -> Subscription:
    """Start a subscription now. A user has at most one live subscription: see
    ``Subscription.live_key``; the INSERT that loses a race is answered with 409."""
    plan = _active_plan(plan_code)
    _expire_overdue(user_id=user.pk)
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
        _sync_token_quota(user_id=user.pk, quota=plan.ai_tokens_per_period)

    try:
        atomically(insert_with_quota)
    except IntegrityError:
        raise _conflict(
            "You already have a live subscription; switch or renew it instead.",
            Reason.ALREADY_SUBSCRIBED,
        ) from None
    _invalidate_after_commit(user_id=user.pk)
    return subscription


def _invalidate_after_commit(*, user_id: Any) -> None:
    """Invalidate again once the transaction has committed: a read between the in-transaction
    invalidation and the commit may have cached the state before it."""
    access_cache.invalidate(user_id, "sub", "ai")


def subscription_live_key(subscription: Subscription) -> str | None:
    """What ``live_key`` must hold for the subscription's status and end (admin edits)."""
    live = (
        subscription.status in LIVE_STATUSES
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
        raise _conflict("This user already has a live subscription.", Reason.ALREADY_SUBSCRIBED)


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
            _sync_token_quota(
                user_id=subscription.user_id, quota=subscription.plan.ai_tokens_per_period
            )
        elif was_live and not subscription.live_key:
            _zero_token_quotas(user_ids=[subscription.user_id], now=timezone.now())

    try:
        atomically(save_with_quota)
    except IntegrityError:
        raise _conflict(
            "This user already has a live subscription.", Reason.ALREADY_SUBSCRIBED
        ) from None
    access_cache.invalidate(subscription.user_id, "ai")
    return subscription


def _expire_overdue(*, user_id: Any) -> None:
    """A subscription past its end that the hourly job has not reached yet no longer blocks."""
    expired = Subscription.objects.filter(
        user_id=user_id, status__in=LIVE_STATUSES, ends_at__lte=timezone.now()
    ).update(status=SubscriptionStatus.EXPIRED, live_key=None)
    if expired:
        access_cache.invalidate(user_id, "sub")


def subscription_cancel(*, user, subscription_id: Any) -> Subscription:
    """Stop auto-renewal; access lasts until ``ends_at``, when the expiry job ends it."""
    subscription = _own_live_subscription(user=user, subscription_id=subscription_id)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise _conflict("This subscription is already cancelled.", Reason.ALREADY_CANCELLED)
    now = timezone.now()
    _conditional_update(
        subscription,
        status=SubscriptionStatus.CANCELLED,
        cancelled_at=now,
        auto_renew=False,
    )
    return subscription


def subscription_renew(*, user, subscription_id: Any) -> Subscription:
    """Add one plan period from max(now, ends_at); a cancelled subscription becomes active again."""
    subscription = _own_live_subscription(user=user, subscription_id=subscription_id)
    if not subscription.plan.is_active:
        raise _conflict("This plan is no longer offered.", Reason.PLAN_INACTIVE)
    start = max(timezone.now(), subscription.ends_at)
    _conditional_update(
        subscription,
        status=SubscriptionStatus.ACTIVE,
        ends_at=start + dt.timedelta(days=subscription.plan.duration_days),
        cancelled_at=None,
        auto_renew=True,
    )
    return subscription


def subscription_switch(*, user, subscription_id: Any, plan_code: str) -> Subscription:
    """Move the live subscription to another plan.

    The rule: the switch takes effect at once, in place (same subscription row, so the
    one-live-subscription rule never has a gap or an overlap); the new plan's full period starts
    now, without proration; auto-renew is back on; the AI-token quota becomes the new plan's for
    the current month, and tokens already used this month stay used.
    """
    subscription = _own_live_subscription(user=user, subscription_id=subscription_id)
    plan = _active_plan(plan_code)
    if plan.pk == subscription.plan_id:
        raise _conflict("This subscription is already on that plan.", Reason.SAME_PLAN)
    now = timezone.now()

    def switch_with_quota() -> None:
        _conditional_update(
            subscription,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            started_at=now,
            ends_at=now + dt.timedelta(days=plan.duration_days),
            cancelled_at=None,
            auto_renew=True,
        )
        _sync_token_quota(user_id=user.pk, quota=plan.ai_tokens_per_period)

    atomically(switch_with_quota)
    _invalidate_after_commit(user_id=user.pk)
    return subscription


def _conditional_update(subscription: Subscription, **changes: Any) -> None:
    """Apply ``changes`` only if the row is still as we read it (optimistic concurrency)."""
    updated = Subscription.objects.filter(
        pk=subscription.pk,
        status=subscription.status,
        ends_at=subscription.ends_at,
        plan_id=subscription.plan_id,
    ).update(**changes)
    access_cache.invalidate(subscription.user_id, "sub")
    if not updated:
        raise _conflict(
            "The subscription was changed by another request; try again.",
            Reason.CHANGED_CONCURRENTLY,
        )
    for name, value in changes.items():
        setattr(subscription, name, value)


# --- course grants -------------------------------------------------------------------------------


def course_grant(
    *, user, course: Course, expires_at: dt.datetime | None = None, source: str = GrantSource.ADMIN
) -> CourseGrant:
    """Give (or extend, or make permanent) one user's access to one course; idempotent."""
    fields = {"expires_at": expires_at, "source": source}
    if not CourseGrant.objects.filter(user=user, course=course).update(**fields):
        try:
            with unique_insert_savepoint():
                CourseGrant.objects.create(user=user, course=course, **fields)
        except IntegrityError:
            CourseGrant.objects.filter(user=user, course=course).update(**fields)
    access_cache.invalidate(user.pk, "grants")
    return CourseGrant.objects.get(user=user, course=course)


def course_revoke(*, user, course: Course) -> bool:
    deleted, _ = CourseGrant.objects.filter(user=user, course=course).delete()
    access_cache.invalidate(user.pk, "grants")
    return bool(deleted)


# --- AI tokens -----------------------------------------------------------------------------------


def ai_tokens_consume(*, user, amount: int) -> AiTokenAccount:
    """Spend ``amount`` tokens or refuse with 409: one conditional UPDATE ``used + n <= quota``.

    The check and the increment are one statement (one ``update_one`` with ``$inc`` on MongoDB),
    so concurrent requests can never overspend. Only when it matches nothing (no account yet, or
    last month's period) is the account created or rolled over, and the update tried once more.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The request is invalid.",
            details={"fields": {"amount": ["Must be a positive integer."]}},
        )
    if not _spend(user_id=user.pk, amount=amount):
        _ensure_current_account(user_id=user.pk)
        if not _spend(user_id=user.pk, amount=amount):
            account = AiTokenAccount.objects.get(user_id=user.pk)
            _refresh_ai_cache(account)
            raise _conflict(
                "Not enough AI tokens left this month.",
                Reason.INSUFFICIENT_TOKENS,
                remaining=max(account.quota - account.used, 0),
                requested=amount,
            )
    record_ai_tokens_spent(amount)
    account = AiTokenAccount.objects.get(user_id=user.pk)
    _refresh_ai_cache(account)
    return account


def _spend(*, user_id: Any, amount: int) -> bool:
    return bool(
        AiTokenAccount.objects.filter(
            user_id=user_id,
            period_start=current_period_start(),
            used__lte=F("quota") - amount,
        ).update(used=F("used") + amount)
    )


def _refresh_ai_cache(account: AiTokenAccount) -> None:
    access_cache.refresh("ai", account.user_id, ai_entry(account))


def _ensure_current_account(*, user_id: Any) -> None:
    """Create the account (quota of the live plan) or roll a past period over, idempotently."""
    period = current_period_start()
    account = AiTokenAccount.objects.filter(user_id=user_id).first()
    if account is None:
        subscription = live_subscription(user_id=user_id)
        quota = subscription.plan.ai_tokens_per_period if subscription else 0
        try:
            with unique_insert_savepoint():
                AiTokenAccount.objects.create(user_id=user_id, period_start=period, quota=quota)
        except IntegrityError:
            pass
    elif account.period_start < period:
        AiTokenAccount.objects.filter(pk=account.pk, period_start=account.period_start).update(
            period_start=period, used=0
        )


def _sync_token_quota(*, user_id: Any, quota: int) -> None:
    period = current_period_start()
    if not AiTokenAccount.objects.filter(user_id=user_id, period_start=period).update(quota=quota):
        _ensure_current_account(user_id=user_id)
        AiTokenAccount.objects.filter(user_id=user_id).update(quota=quota)
    access_cache.invalidate(user_id, "ai")


# --- bulk steps for the scheduled jobs -----------------------------------------------------------

JOB_BATCH_SIZE = 1000


def subscriptions_expire_due(
    *,
    now: dt.datetime | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Mark live subscriptions past ``ends_at`` expired, in batches; idempotent and re-runnable.

    A batch is ``batch_size`` (pk, user id) pairs read on the (status, ends_at) index, unordered
    (a sort would read every due row per batch). Its steps are ordered so that a run killed
    half-way is completed by the next run, which selects the same rows again (they stay due until
    the status update): first the in-app notices (keyed per subscription, so none is sent twice),
    then the users' AI-token quota (unless they hold a live subscription again), then the status
    update (same due condition: a row changed meanwhile is left alone), then the users' cache
    entries in one bulk delete. A constant number of queries per batch, whatever N.
    """
    now = now or timezone.now()
    due = Subscription.objects.filter(status__in=LIVE_STATUSES, ends_at__lte=now).order_by()
    total = 0
    while batch := list(due.values_list("pk", "user_id")[:batch_size]):
        _notify_expired(batch)
        user_ids = [user_id for _, user_id in batch]
        _zero_token_quotas(user_ids=user_ids, now=now)
        expired = due.filter(pk__in=[pk for pk, _ in batch]).update(
            status=SubscriptionStatus.EXPIRED, live_key=None
        )
        access_cache.invalidate_users(user_ids, families=("sub", "ai"))
        total += expired
        if progress:
            progress(expired)
    return total


def _notify_expired(batch: list[tuple[Any, Any]]) -> int:
    """One in-app notice per expired subscription: one read of the existing keys, one bulk insert.

    In-app only: an email per expiry would be one queued task per row. The users are id-only
    instances (the notice needs only ``user_id``), so no user row is read.
    """
    user_model = get_user_model()
    drafts = [
        NotificationDraft(
            user=user_model(pk=user_id),
            kind=NotificationKind.SUBSCRIPTION_EXPIRED,
            title="Your subscription has ended",
            body="Renew it or choose a plan to keep access to your courses.",
            dedupe_key=f"subscription-expired:{pk}",
            payload={"subscription_id": str(pk)},
        )
        for pk, user_id in batch
    ]
    return notifications_create_many(drafts=drafts)


def _zero_token_quotas(*, user_ids: list[Any], now: dt.datetime) -> None:
    """Users left without a live subscription get no AI tokens; one who subscribed again in the
    meantime (``subscription_create`` expires the old row itself) keeps the new plan's quota."""
    renewed = set(
        Subscription.objects.filter(
            user_id__in=user_ids, status__in=LIVE_STATUSES, ends_at__gt=now
        ).values_list("user_id", flat=True)
    )
    AiTokenAccount.objects.filter(
        user_id__in=[uid for uid in user_ids if uid not in renewed]
    ).update(quota=0)


def ai_tokens_reset_due(
    *,
    period_start: dt.date | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Start the new monthly period for every account still in an older one; idempotent.

    Two queries per batch: the (pk, user id) pairs on the ``period_start`` index, then one update
    with the same condition (an account rolled over meanwhile by a spend is left alone); then the
    batch's cache entries in one bulk delete. A second run in the same period finds nothing.
    """
    period_start = period_start or current_period_start()
    due = AiTokenAccount.objects.filter(period_start__lt=period_start).order_by()
    total = 0
    while batch := list(due.values_list("pk", "user_id")[:batch_size]):
        reset = due.filter(pk__in=[pk for pk, _ in batch]).update(period_start=period_start, used=0)
        access_cache.invalidate_users((user_id for _, user_id in batch), families=("ai",))
        total += reset
        if progress:
            progress(reset)
    return total
