"""Failed-login limits per account, shared by the token endpoint and the admin login.

The per-IP limit (the ``auth`` group of etrainer.ratelimit) stops one address from guessing fast;
this one stops many addresses guessing one account's password. Only failures count, so a user who
types the password right is never slowed by their own successful logins. The counters are
django-ratelimit's, in the shared cache, keyed by the normalised login (hashed by the library).
"""

from django.conf import settings
from django_ratelimit.core import get_usage

from accounts.models import User

GROUP = "login-failures"
CACHE_DOWN_RETRY_AFTER = 5


def _usage(request, login: str, *, increment: bool) -> dict | None:
    key = User.objects.normalize_email(login)
    return get_usage(
        request,
        group=GROUP,
        key=lambda _group, _request: key,
        rate=settings.RATELIMIT_LOGIN_FAILURES,
        increment=increment,
    )


def login_retry_after(request, login: str) -> int:
    """Seconds until this account may try to log in again; 0 when it may now."""
    if not login:
        return 0
    usage = _usage(request, login, increment=False)
    if usage is None:
        return 0
    if usage["time_left"] < 0:
        return CACHE_DOWN_RETRY_AFTER
    return max(1, usage["time_left"]) if usage["count"] >= usage["limit"] else 0


def login_failure_record(request, login: str) -> None:
    if login:
        _usage(request, login, increment=True)
