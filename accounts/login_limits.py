"""Failed-login limits, shared by the token endpoint and the admin login (the auth backend).

Only failures count, so a user who types the password right is never slowed by their own logins.
They are rows in the database (``LoginFailure``), not cache counters, so the limits hold while
Redis is down. Three ceilings over one sliding window, each a rate in django-ratelimit's syntax:

- ``RATELIMIT_LOGIN_FAILURES`` per (account, client address): the lock a guesser meets first. It is
  keyed on the address too, so a third party failing from elsewhere does not lock the owner out
  of their own address.
- ``RATELIMIT_LOGIN_FAILURES_ACCOUNT`` per account, from every address: higher, it stops a guesser
  spreading over many addresses, at the price that such a guesser can lock the account for the
  window (README, "Security and rate limits").
- ``RATELIMIT_LOGIN_FAILURES_ADDRESS`` per address, over every account: one address trying many
  accounts (the per-IP request limit of the ``auth`` group lets requests through when Redis is
  down, so this is what bounds guessing then).
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import LoginFailure, User
from etrainer.ratelimit import client_ip

RATE = re.compile(r"^(?P<limit>\d+)/(?P<multiplier>\d*)(?P<unit>[smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NO_ADDRESS = "-"  # authenticate() called without a request (shell, management commands)


@dataclass(frozen=True)
class Ceiling:
    limit: int
    period: dt.timedelta


def parse_rate(rate: str) -> Ceiling:
    """``"5/15m"`` -> 5 per 15 minutes (django-ratelimit's rate syntax)."""
    match = RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as 5/15m")
    seconds = int(match["multiplier"] or 1) * UNIT_SECONDS[match["unit"]]
    return Ceiling(limit=int(match["limit"]), period=dt.timedelta(seconds=seconds))


def _ceilings() -> tuple[Ceiling, Ceiling, Ceiling]:
    return (
        parse_rate(settings.RATELIMIT_LOGIN_FAILURES),
        parse_rate(settings.RATELIMIT_LOGIN_FAILURES_ACCOUNT),
        parse_rate(settings.RATELIMIT_LOGIN_FAILURES_ADDRESS),
    )


def _address(request) -> str:
    return (client_ip(request) if request is not None else "") or NO_ADDRESS


def _retry_after(times: list[dt.datetime], ceiling: Ceiling, now: dt.datetime) -> int:
    """Seconds until fewer than ``limit`` of ``times`` (ascending) lie within the window."""
    recent = [t for t in times if t > now - ceiling.period]
    if ceiling.limit <= 0 or len(recent) < ceiling.limit:
        return 0
    lifts_at = recent[len(recent) - ceiling.limit] + ceiling.period
    return max(1, int((lifts_at - now).total_seconds()) + 1)


def login_retry_after(request, login: str) -> int:
    """Seconds until this login may be tried again from this address; 0 when it may now.

    One query: the failures of this login or from this address within the longest window (at
    most the ceilings' sum of rows, since a refused attempt is not recorded).
    """
    if not login:
        return 0
    key, address = User.objects.normalize_email(login), _address(request)
    pair, account, per_address = _ceilings()
    now = timezone.now()
    since = now - max(pair.period, account.period, per_address.period)
    rows = list(
        LoginFailure.objects.filter(Q(login=key) | Q(address=address), created_at__gt=since)
        .order_by("created_at")
        .values_list("login", "address", "created_at")
    )
    return max(
        _retry_after([t for lg, ad, t in rows if lg == key and ad == address], pair, now),
        _retry_after([t for lg, _, t in rows if lg == key], account, now),
        _retry_after([t for _, ad, t in rows if ad == address], per_address, now),
    )


def login_failure_record(request, login: str) -> None:
    if login:
        LoginFailure.objects.create(
            login=User.objects.normalize_email(login)[:254], address=_address(request)[:45]
        )


def login_failures_purge(*, now: dt.datetime | None = None) -> int:
    """Drop failures older than every window: they no longer count. Returns how many."""
    periods = [ceiling.period for ceiling in _ceilings()]
    cutoff = (now or timezone.now()) - max(periods)
    deleted, _ = LoginFailure.objects.filter(created_at__lte=cutoff).delete()
    return deleted
