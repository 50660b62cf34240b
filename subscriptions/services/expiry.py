"""The expiry job's steps: end due subscriptions, notify their users (and warn them before)."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext

from notifications.models import NotificationChannel, NotificationKind
from notifications.services import NotificationDraft, notifications_create_many
from subscriptions import cache as access_cache
from subscriptions.models import HELD_STATUSES, Subscription, SubscriptionStatus
from subscriptions.selectors import paid_plan_ids
from subscriptions.services.ai_tokens import zero_token_quotas
from subscriptions.services.common import JOB_BATCH_SIZE


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
    due = Subscription.objects.filter(status__in=HELD_STATUSES, ends_at__lte=now).order_by()
    total = 0
    paid_plans = paid_plan_ids()
    rows = due.values_list("pk", "user_id", "plan_id")
    while batch := with_languages(list(rows[:batch_size])):
        notify_expired(batch, paid=frozenset(row[0] for row in batch if row[2] in paid_plans))
        user_ids = [row[1] for row in batch]
        zero_token_quotas(user_ids=user_ids, now=now)
        expired = due.filter(pk__in=[row[0] for row in batch]).update(
            status=SubscriptionStatus.EXPIRED, live_key=None
        )
        access_cache.invalidate_users(user_ids, families=("sub", "ai"))
        total += expired
        if progress:
            progress(expired)
    return total


def notify_expired(batch: list[tuple[Any, ...]], *, paid: frozenset = frozenset()) -> int:
    """One in-app notice per expired subscription, and an email too for the paid ones (``paid``:
    their pks): one read of the existing keys, one bulk insert.

    The users are id-only instances (the notice needs only ``user_id``), so no user row is read;
    a row's fourth value, when present, is the user's language (the site default otherwise).
    """
    user_model = get_user_model()
    drafts = []
    for pk, user_id, *rest in batch:
        channels = [NotificationChannel.IN_APP]
        if pk in paid:
            channels.append(NotificationChannel.EMAIL)
        with translation.override(rest[1] if len(rest) > 1 else settings.LANGUAGE_CODE):
            title = gettext("Your subscription has ended")
            body = gettext("Renew it or choose a plan to keep access to your courses.")
        drafts += [
            NotificationDraft(
                user=user_model(pk=user_id),
                kind=NotificationKind.SUBSCRIPTION_EXPIRED,
                title=title,
                body=body,
                channel=channel,
                dedupe_key=f"subscription-expired:{pk}"
                + ("" if channel == NotificationChannel.IN_APP else ":email"),
                payload={"subscription_id": str(pk)},
            )
            for channel in channels
        ]
    return notifications_create_many(drafts=drafts)


EXPIRING_NOTICE_DAYS = 3
KIND_SUBSCRIPTION_EXPIRING = "subscription_expiring"


def subscriptions_notify_expiring(
    *,
    now: dt.datetime | None = None,
    batch_size: int = JOB_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Email each paid subscription that will not renew (cancelled) and ends within three days.

    Keyed per subscription and end, so an hourly run sends each notice once (a renewed and again
    cancelled subscription gets a new one). Batches walk the pk order: a constant number of
    queries per batch, whatever N.
    """
    now = now or timezone.now()
    paid_plans = list(paid_plan_ids())
    due = Subscription.objects.filter(
        status=SubscriptionStatus.CANCELLED,
        auto_renew=False,
        ends_at__gt=now,
        ends_at__lte=now + dt.timedelta(days=EXPIRING_NOTICE_DAYS),
        plan_id__in=paid_plans,
    ).order_by("pk")
    user_model = get_user_model()
    total, last = 0, None
    while rows := list(
        (due.filter(pk__gt=last) if last is not None else due).values_list(
            "pk", "user_id", "ends_at"
        )[:batch_size]
    ):
        batch = with_languages(rows)
        last = batch[-1][0]
        drafts = [
            NotificationDraft(
                user=user_model(pk=user_id),
                kind=KIND_SUBSCRIPTION_EXPIRING,
                **_expiring_texts(ends_at, language),
                channel=NotificationChannel.EMAIL,
                dedupe_key=f"subscription-expiring:{pk}:{ends_at:%Y-%m-%dT%H:%M}",
                payload={"subscription_id": str(pk), "ends_at": ends_at.isoformat()},
            )
            for pk, user_id, ends_at, language in batch
        ]
        created = notifications_create_many(drafts=drafts)
        total += created
        if progress:
            progress(created)
    return total


def _expiring_texts(ends_at: dt.datetime, language: str) -> dict[str, str]:
    """Title and body in the learner's language: notices are stored as written."""
    with translation.override(language):
        return {
            "title": gettext("Your subscription ends soon"),
            "body": gettext("It ends on %(date)s and will not renew. Renew it to keep access.")
            % {"date": f"{ends_at:%Y-%m-%d}"},
        }


def with_languages(batch: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Each row with its user's language appended: one query per batch, whatever its size (a
    join in ``values_list`` fails on the MongoDB backend once sliced)."""
    if not batch:
        return batch
    user_ids = {row[1] for row in batch}
    languages = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "language"))
    return [(*row, languages.get(row[1], settings.LANGUAGE_CODE)) for row in batch]
