"""Secrets, CORS, rate limits and login throttling."""

from etrainer.env import env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = env.bool("RATELIMIT_FAIL_OPEN", default=True)
RATELIMIT_TRUSTED_PROXIES = env.list("RATELIMIT_TRUSTED_PROXIES", default=[])
RATELIMIT_RATES = {
    "auth": env("RATELIMIT_AUTH", default="10/m"),
    "uploads": env("RATELIMIT_UPLOADS", default="20/m"),
    "ai": env("RATELIMIT_AI", default="30/m"),
    "system": env("RATELIMIT_SYSTEM", default="60/m"),
    "default": env("RATELIMIT_DEFAULT", default="300/m"),
}
# Failed logins (accounts.login_limits): per (account, address), per account, per address.
RATELIMIT_LOGIN_FAILURES = env("RATELIMIT_LOGIN_FAILURES", default="5/15m")
RATELIMIT_LOGIN_FAILURES_ACCOUNT = env("RATELIMIT_LOGIN_FAILURES_ACCOUNT", default="50/15m")
RATELIMIT_LOGIN_FAILURES_ADDRESS = env("RATELIMIT_LOGIN_FAILURES_ADDRESS", default="30/15m")
AUTHENTICATION_BACKENDS = ["accounts.backends.RateLimitedModelBackend"]

SILENCED_SYSTEM_CHECKS: list[str] = []
