"""Stripe: Checkout for paid plans, signed webhooks (payments/)."""

from etrainer.env import env

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Only for tests and local proxies: where the SDK sends API calls (default: Stripe's own).
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
# Where Stripe Checkout sends the learner back ({CHECKOUT_SESSION_ID} is filled in by Stripe).
STRIPE_CHECKOUT_SUCCESS_URL = env(
    "STRIPE_CHECKOUT_SUCCESS_URL",
    default="http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
)
STRIPE_CHECKOUT_CANCEL_URL = env(
    "STRIPE_CHECKOUT_CANCEL_URL", default="http://localhost:3000/billing/cancelled"
)
# Development only: without Stripe keys, checkout is a local page that completes by sending the
# same signed event to the webhook. production.py refuses to start with it on.
STRIPE_DEV_CHECKOUT = env.bool("STRIPE_DEV_CHECKOUT", default=not STRIPE_SECRET_KEY)
if STRIPE_DEV_CHECKOUT and not STRIPE_WEBHOOK_SECRET:
    STRIPE_WEBHOOK_SECRET = "whsec_local_development_only"  # noqa: S105
# The currency a learner pays in when the subscribe request names none, by the learner's language
# (ISO 4217 codes; "vi=VND,en=EUR"). Every language of the platform needs one (subscriptions.E001).
CURRENCY_BY_LANGUAGE = {
    language.strip(): currency.strip().upper()
    for language, currency in env.dict(
        "CURRENCY_BY_LANGUAGE", default={"vi": "VND", "en": "EUR"}
    ).items()
}
