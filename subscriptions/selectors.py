"""Reads: plans, subscriptions, courses, and the cached access summary (DESIGN.md §6).

Cached values are plain dicts of the database rows (``*_entry``); the summary is composed from
them at read time, so the time-dependent parts (is the subscription still running, has a grant
expired, has the AI-token month rolled over) are always evaluated now, whatever the entry's age.
"""

import datetime as dt
import re
import time
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.metrics import observe_access_check
from subscriptions import cache as access_cache
from subscriptions.cache import MISS, SUMMARY_FAMILIES, Lookup
from subscriptions.models import (
    LIVE_STATUSES,
    AiTokenAccount,
    Course,
    CourseGrant,
    Plan,
    PlanPrice,
    Subscription,
)
from subscriptions.money import currency_for_language
from subscriptions.rendered import ComposedSummary, summary_memo
from subscriptions.request_context import access_context

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def current_period_start(now: dt.datetime | None = None) -> dt.date:
    """AI-token periods are calendar months in UTC."""
    return (now or timezone.now()).astimezone(dt.UTC).date().replace(day=1)


def next_period_start(period_start: dt.date) -> dt.date:
    return (period_start + dt.timedelta(days=32)).replace(day=1)


def is_well_formed_id(raw_id: Any) -> bool:
    """Ids are opaque (integers on SQL, ObjectIds on MongoDB) but never long or odd."""
    return bool(_ID_PATTERN.match(str(raw_id)))


def get_by_id(queryset: QuerySet, raw_id: Any, *, what: str):
    """Fetch one row by an opaque id; a malformed or unknown id is the same 404."""
    if not is_well_formed_id(raw_id):
        raise _not_found(what)
    try:
        return queryset.get(pk=raw_id)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise _not_found(what) from None


# One whole sentence per kind, so that a translation can order its words freely.
NOT_FOUND_MESSAGES = {
    "Course": gettext_lazy("Course not found."),
    "Subscription": gettext_lazy("Subscription not found."),
}


def _not_found(what: str) -> ApplicationError:
    message = NOT_FOUND_MESSAGES.get(what) or gettext_lazy("Not found.")
    return ApplicationError(ErrorCode.NOT_FOUND, str(message), status=404)


# --- lists ---------------------------------------------------------------------------------------


def plan_list() -> QuerySet[Plan]:
    """The plans on sale with their prices: two queries (plans, then their prices by plan id)."""
    return Plan.objects.filter(is_active=True).order_by("tier", "code").prefetch_related("prices")


def default_price(plan: Plan) -> PlanPrice | None:
    """The price shown first: in the active language's currency, else the first paid one, else
    the first (reads the prefetched ``prices``)."""
    prices = list(plan.prices.all())
    wanted = currency_for_language(translation.get_language())
    return next(
        (p for p in prices if p.currency == wanted),
        next((p for p in prices if p.amount > 0), prices[0] if prices else None),
    )


def paid_plan_ids() -> set[Any]:
    """Plans with a price above zero in any currency: one read of ``PlanPrice`` on its amount
    index (no relation filter: MONGODB.md), for the jobs' "is this a paid plan" tests."""
    return set(PlanPrice.objects.filter(amount__gt=0).values_list("plan_id", flat=True))


def subscription_list(*, user) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(user=user).select_related("plan").order_by("-started_at", "-pk")
    )


def course_list() -> QuerySet[Course]:
    return Course.objects.filter(is_published=True).order_by("min_tier", "code")


def live_subscription(*, user_id: Any) -> Subscription | None:
    """The user's live subscription with its plan: one query on (user, status, ends_at)."""
    return (
        Subscription.objects.select_related("plan")
        .filter(user_id=user_id, status__in=LIVE_STATUSES, ends_at__gt=timezone.now())
        .order_by("-ends_at")
        .first()
    )


# --- cache entries -------------------------------------------------------------------------------


def subscription_entry(subscription: Subscription | None) -> dict | None:
    if subscription is None:
        return None
    plan = subscription.plan
    return {
        "id": str(subscription.pk),
        "status": subscription.status,
        "started_at": subscription.started_at,
        "ends_at": subscription.ends_at,
        "auto_renew": subscription.auto_renew,
        "plan": {"code": plan.code, "name": plan.name, "tier": plan.tier},
    }


def ai_entry(account: AiTokenAccount | None) -> dict | None:
    if account is None:
        return None
    return {"period_start": account.period_start, "quota": account.quota, "used": account.used}


def grants_entry(user_id: Any) -> list[dict]:
    """The user's unexpired grants: one query."""
    rows = CourseGrant.objects.filter(user_id=user_id).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )
    return [
        {"course": str(course_id), "expires_at": expires_at}
        for course_id, expires_at in rows.values_list("course_id", "expires_at")
    ]


def course_entry(course: Course) -> dict:
    return {
        "id": str(course.pk),
        "code": course.code,
        "title": course.title,
        "min_tier": course.min_tier,
        "is_published": course.is_published,
    }


# --- the access summary --------------------------------------------------------------------------


def access_summary(user, *, lookup: Lookup | None = None) -> dict:
    """The user's entitlement: plan, tier, AI-token balance and course grants.

    Warm: no query, and the one ``get_many`` of ``lookup`` (made by the hot-path authentication
    together with the user entry, or here). Cold: at most one query per family — the live
    subscription joined to its plan, the token account, the grants — each written back.
    The result is shared (``subscriptions.rendered``): read it, never change it.
    """
    return composed_summary(user, lookup=lookup).summary


def composed_summary(user, *, lookup: Lookup | None = None) -> ComposedSummary:
    """The summary with its JSON body: composed from this read's entries, or the process's last
    composition of exactly these entries while the clock has not changed it."""
    started = time.perf_counter()
    lookup = lookup or access_cache.fetch(user.pk, SUMMARY_FAMILIES)
    sub = _family(lookup, "sub", lambda: subscription_entry(live_subscription(user_id=user.pk)))
    ai = _family(lookup, "ai", lambda: ai_entry(_token_account(lookup)))
    grants = _family(lookup, "grants", lambda: grants_entry(user.pk))
    now = timezone.now()

    def compose() -> tuple[dict, dt.datetime]:
        # The lookup's id, not user.pk: the hot path's user is lazy, and building it costs more
        # than the rest of a warm summary.
        summary = compose_summary(user_id=lookup.user_id, sub=sub, ai=ai, grants=grants, now=now)
        return summary, summary_valid_until(sub=sub, grants=grants, now=now)

    composed = summary_memo.composed(lookup.user_id, (sub, ai, grants), now, compose)
    observe_access_check(time.perf_counter() - started)
    return composed


def access_summary_for_request(request) -> dict:
    """The summary, computed once per request (``AccessContext``) and shared by its views."""
    return composed_summary_for_request(request).summary


def access_summary_body_for_request(request) -> bytes:
    """The summary as the JSON body of ``/api/me/access``."""
    return composed_summary_for_request(request).body


def composed_summary_for_request(request) -> ComposedSummary:
    context = access_context(request)
    if context.summary is None:
        context.summary = composed_summary(request.user, lookup=context.lookup)
    return context.summary


def _family(lookup: Lookup, family: str, load):
    value = lookup.get(family)
    if value is MISS:
        value = load()
        lookup.store(family, value)
    return value


def _token_account(lookup: Lookup) -> AiTokenAccount | None:
    if "ai" in lookup.preloaded:
        return lookup.preloaded["ai"]
    return AiTokenAccount.objects.filter(user_id=lookup.user_id).first()


def compose_summary(
    *, user_id: Any, sub: dict | None, ai: dict | None, grants: list, now: dt.datetime
) -> dict:
    live_sub = sub if sub is not None and sub["ends_at"] > now else None
    return {
        "user": str(user_id),
        "plan": live_sub["plan"] if live_sub else None,
        "tier": live_sub["plan"]["tier"] if live_sub else 0,
        "subscription": _subscription_out(live_sub),
        "ai_tokens": ai_balance(ai, now=now),
        "grants": [
            {"course": g["course"], "expires_at": _iso(g["expires_at"])}
            for g in grants
            if g["expires_at"] is None or g["expires_at"] > now
        ],
    }


def summary_valid_until(*, sub: dict | None, grants: list, now: dt.datetime) -> dt.datetime:
    """The first moment after ``now`` at which ``compose_summary`` of the same entries changes:
    the live subscription ends, an unexpired grant expires, or the AI-token month turns."""
    month_turns = dt.datetime.combine(
        next_period_start(current_period_start(now)), dt.time.min, tzinfo=dt.UTC
    )
    moments = [month_turns]
    if sub is not None and sub["ends_at"] > now:
        moments.append(sub["ends_at"])
    moments += [
        grant["expires_at"]
        for grant in grants
        if grant["expires_at"] is not None and grant["expires_at"] > now
    ]
    return min(moments)


def _subscription_out(sub: dict | None) -> dict | None:
    if sub is None:
        return None
    return {
        "id": sub["id"],
        "status": sub["status"],
        "started_at": _iso(sub["started_at"]),
        "ends_at": _iso(sub["ends_at"]),
        "auto_renew": sub["auto_renew"],
    }


def ai_balance(ai: dict | None, *, now: dt.datetime | None = None) -> dict:
    """The balance as of now: an account still in last month's period has used nothing yet."""
    period = current_period_start(now)
    quota = ai["quota"] if ai else 0
    used = ai["used"] if ai and ai["period_start"] >= period else 0
    return {
        "quota": quota,
        "used": used,
        "remaining": max(quota - used, 0),
        "period_start": period.isoformat(),
        "period_end": next_period_start(period).isoformat(),
    }


def _iso(value: dt.datetime | None) -> str | None:
    """UTC with a Z: equal instants render alike, whatever zone the entry's datetime carries."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- course access -------------------------------------------------------------------------------


def course_for_access(*, course_id: str, lookup: Lookup | None, include_unpublished: bool) -> dict:
    """The course entry, from the lookup's cached ``course`` family or one query."""
    value = lookup.get("course") if lookup is not None else MISS
    if value is MISS:
        course = get_by_id(Course.objects.all(), course_id, what="Course")
        value = course_entry(course)
        if lookup is not None:
            lookup.store("course", value)
        else:
            access_cache.store("course", value["id"], value)
    if not value["is_published"] and not include_unpublished:
        raise _not_found("Course")
    return value


def course_access(*, summary: dict, course: dict) -> dict:
    """Tier from the summary against the course's ``min_tier``, or a live grant."""
    grant = next((g for g in summary["grants"] if g["course"] == course["id"]), None)
    if summary["tier"] >= course["min_tier"]:
        reason = "free" if course["min_tier"] == 0 else "plan"
    elif grant is not None:
        reason = "grant"
    else:
        reason = "upgrade_required"
    return {
        "course": course["id"],
        "code": course["code"],
        "allowed": reason != "upgrade_required",
        "reason": reason,
        "min_tier": course["min_tier"],
        "tier": summary["tier"],
        "grant_expires_at": grant["expires_at"] if grant else None,
    }
