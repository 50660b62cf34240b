"""Writes of the subscriptions app, one module per entity; the names callers import live here."""

from subscriptions.services.ai_tokens import (
    ai_tokens_consume,
    ai_tokens_reset_due,
    sync_token_quota,
    zero_token_quotas,
)
from subscriptions.services.common import JOB_BATCH_SIZE, Reason
from subscriptions.services.expiry import (
    notify_expired,
    subscriptions_expire_due,
    subscriptions_notify_expiring,
)
from subscriptions.services.grants import course_grant, course_revoke
from subscriptions.services.subscriptions import (
    subscription_cancel,
    subscription_create,
    subscription_live_key,
    subscription_renew,
    subscription_staff_check,
    subscription_staff_save,
    subscription_switch,
)

__all__ = [
    "JOB_BATCH_SIZE",
    "Reason",
    "ai_tokens_consume",
    "ai_tokens_reset_due",
    "course_grant",
    "course_revoke",
    "notify_expired",
    "subscription_cancel",
    "subscription_create",
    "subscription_live_key",
    "subscription_renew",
    "subscription_staff_check",
    "subscription_staff_save",
    "subscription_switch",
    "subscriptions_expire_due",
    "subscriptions_notify_expiring",
    "sync_token_quota",
    "zero_token_quotas",
]
