"""AI tokens: spending (one conditional update), the quota a plan gives, the monthly reset."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.db.models import F
from django.utils.translation import gettext as _

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.db import unique_insert_savepoint
from etrainer.metrics import record_ai_tokens_spent
from subscriptions import cache as access_cache
from subscriptions.models import LIVE_STATUSES, AiTokenAccount, Subscription
from subscriptions.selectors import ai_entry, current_period_start, live_subscription
from subscriptions.services.common import JOB_BATCH_SIZE, Reason, conflict


def ai_tokens_consume(*, user, amount: int) -> AiTokenAccount:
    """Spend ``amount`` tokens or refuse with 409: one conditional UPDATE ``used + n <= quota``.

    The check and the increment are one statement (one ``update_one`` with ``$inc`` on MongoDB),
    so concurrent requests can never overspend. Only when it matches nothing (no account yet, or
    last month's period) is the account created or rolled over, and the update tried once more.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            _("The request is invalid."),
            details={"fields": {"amount": [_("Must be a positive integer.")]}},
        )
    if not _spend(user_id=user.pk, amount=amount):
        _ensure_current_account(user_id=user.pk)
        if not _spend(user_id=user.pk, amount=amount):
            account = AiTokenAccount.objects.get(user_id=user.pk)
            _refresh_ai_cache(account)
            raise conflict(
                _("Not enough AI tokens left this month."),
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


def sync_token_quota(*, user_id: Any, quota: int) -> None:
    period = current_period_start()
    if not AiTokenAccount.objects.filter(user_id=user_id, period_start=period).update(quota=quota):
        _ensure_current_account(user_id=user_id)
        AiTokenAccount.objects.filter(user_id=user_id).update(quota=quota)
    access_cache.invalidate(user_id, "ai")


def zero_token_quotas(*, user_ids: list[Any], now: dt.datetime) -> None:
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
