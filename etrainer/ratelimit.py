"""Shared rate limits per endpoint group, counted by one middleware in the shared Redis cache.

The views are written by several teams, so limits are not decorators on each view: a small ordered
prefix table maps a request path to a group (auth, uploads, ai, system, default), and the group's
rate comes from settings (``RATELIMIT_RATES``, filled from the environment). Counters live in the
shared Redis cache, so every process and every replica counts against the same limit.

The counter is a fixed window of its own (a few lines, no library): the key names the group, the
client and the window's start; ``SET NX EX`` + ``INCR`` go in one pipelined write on the hot
path's held connection (``etrainer.redis_direct``). Any other cache (local memory in development)
takes ``add`` + ``incr``. The count happens in ``process_view``, where the resolved view is known;
a request that never reaches a view (no route, refused by an inner middleware) is counted when its
response comes back.

A module that will read Redis for the same request anyway can ride along in that round trip
(``register_read_along``): the access checks' MGET does, so a warm access check with the limiter
on still costs one round trip. Limited and failed counts are sent as the ``rate_limit_event``
signal (monitoring counts them).
"""

import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.dispatch import Signal
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from etrainer.api.authentication import verified_tokens
from etrainer.api.errors import ErrorCode, error_body
from etrainer.api.views import wants_json
from etrainer.redis_direct import cache_backend, direct_redis, django_redis_client

logger = logging.getLogger("etrainer.ratelimit")

KEY_IP = "ip"
KEY_USER_OR_IP = "user_or_ip"
ALL_METHODS = None
EXPIRY_MARGIN_SECONDS = 1  # a counter outlives its window by this much (clock skew)

# Sent with group= and outcome= ("limited", "failed_open", "failed_closed").
rate_limit_event = Signal()


@dataclass(frozen=True)
class Rule:
    prefix: str
    group: str
    key: str = KEY_USER_OR_IP
    methods: frozenset[str] | None = ALL_METHODS


# First match wins; a path that matches nothing (/health, /metrics, static files) is never limited.
RULES: tuple[Rule, ...] = (
    Rule("/api/auth/", "auth", key=KEY_IP),
    Rule("/admin/login/", "auth", key=KEY_IP, methods=frozenset({"POST"})),
    Rule("/api/uploads/", "uploads"),
    Rule("/api/ai-tokens/consume", "ai"),
    Rule("/api/system/", "system"),
    Rule("/api/", "default"),
)


def rule_for(path: str, method: str) -> Rule | None:
    for rule in RULES:
        if path.startswith(rule.prefix):
            if rule.methods is not None and method not in rule.methods:
                return None
            return rule
    return None


RATE = re.compile(r"^(?P<limit>\d+)/(?P<multiplier>\d*)(?P<unit>[smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """``"300/m"`` -> (300, 60), ``"5/15m"`` -> (5, 900): (limit, window in seconds)."""
    match = RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"{rate!r} is not a rate such as 300/m or 5/15m")
    return int(match["limit"]), int(match["multiplier"] or 1) * UNIT_SECONDS[match["unit"]]


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


@dataclass(frozen=True)
class ReadAlong:
    """An MGET another module makes for this request, sent in the limiter's round trip."""

    keys: list[str]  # full Redis keys, on the limiter's cache
    accept: Callable[[list], None]  # given the MGET's reply; not called when the trip fails


# (request, user id or None for a call keyed by address): called in process_view, so
# request.resolver_match is the resolved view.
ReadAlongProvider = Callable[[object, str | None], ReadAlong | None]
read_along_providers: list[ReadAlongProvider] = []


def register_read_along(provider: ReadAlongProvider) -> None:
    """Called from an AppConfig.ready(); the first provider that answers for a request wins."""
    if provider not in read_along_providers:
        read_along_providers.append(provider)


def read_along_for(request, key: str) -> ReadAlong | None:
    if settings.RATELIMIT_USE_CACHE != "default":
        return None  # providers read the default cache
    if getattr(request, "resolver_match", None) is None:
        return None  # counted after the response: nothing left to read for
    user_id = key.removeprefix("user:") if key.startswith("user:") else None
    for provider in read_along_providers:
        read_along = provider(request, user_id)
        if read_along is not None:
            return read_along
    return None


class CounterUnavailable(Exception):
    """The shared counter could not be read or incremented (Redis down, breaker open)."""


@checks.register(checks.Tags.caches)
def check_shared_counter_cache(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A per-process cache would multiply every limit by the number of processes."""
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    if alias not in settings.CACHES:
        return [
            checks.Error(f"RATELIMIT_USE_CACHE {alias!r} is not in CACHES", id="ratelimit.E001")
        ]
    if django_redis_client(caches[alias]) is None:
        backend = settings.CACHES[alias]["BACKEND"]
        return [
            checks.Error(
                f"The rate-limit cache ({backend}) is not shared by the processes",
                hint="Set REDIS_URL: the counters live in the shared Redis cache.",
                id="ratelimit.E002",
            )
        ]
    return []


# --- client address -------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def _is_trusted(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request) -> str:
    """The caller's address; ``X-Forwarded-For`` counts only when the peer is a trusted proxy.

    Walking the header from the right, each hop added by a trusted proxy is skipped and the first
    untrusted address is the client: anything to its left was written by the client itself and
    could be forged. A malformed entry ends the walk at the last address known to be good.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.RATELIMIT_TRUSTED_PROXIES))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or not _is_trusted(remote, networks):
        return remote
    client = remote
    for hop in reversed([part.strip() for part in forwarded.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client
        client = hop
        if not _is_trusted(hop, networks):
            return hop
    return client


# --- key ------------------------------------------------------------------------------------


def _bearer_user_id(request) -> str | None:
    """The user id of a valid access token, read before DRF authenticates the request.

    simplejwt's AccessToken checks the signature, expiry and token type, so a forged or expired
    token is keyed by address like any anonymous call. No database query is made. Verifying costs
    ~130 us (PyJWT's segment checks), so verified tokens go into the per-process memo that
    ``CachedJWTAuthentication`` reads too: a token is verified once per process, not per request.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    if scheme not in jwt_settings.AUTH_HEADER_TYPES or not raw:
        return None
    raw_bytes = raw.strip().encode()
    token = verified_tokens.get(raw_bytes)
    if token is None:
        try:
            token = AccessToken(raw_bytes)
        except TokenError:
            return None
        verified_tokens.add(raw_bytes, token)
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    return str(user_id) if user_id is not None else None


def rate_key(request, rule: Rule) -> str:
    if rule.key == KEY_USER_OR_IP:
        user_id = _bearer_user_id(request)
        if user_id is not None:
            return f"user:{user_id}"
    return f"ip:{client_ip(request)}"


# --- counting -------------------------------------------------------------------------------


def count_request(request, group: str, key: str, rate: str) -> Usage:
    """Add this request to the group's counter and return the usage in the current window."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period) * period
    cache = cache_backend(settings.RATELIMIT_USE_CACHE)
    counter_key = f"rl:{group}:{key}:{window}"
    expiry = period + EXPIRY_MARGIN_SECONDS
    client = django_redis_client(cache)
    if client is not None:
        full_key = cache.make_key(counter_key)
        count = count_pipelined(client, full_key, expiry, read_along_for(request, key))
    else:
        count = count_in_cache(cache, counter_key, expiry)
    return Usage(count=count, limit=limit, retry_after=max(1, math.ceil(window + period - now)))


def count_pipelined(client, cache_key: str, expiry: int, read_along: ReadAlong | None) -> int:
    """SET NX EX + INCR (+ a read-along MGET) in one write on the held connection."""
    commands = [("SET", cache_key, 0, "EX", expiry, "NX"), ("INCR", cache_key)]
    if read_along is not None:
        commands.append(("MGET", *read_along.keys))
    try:
        pool = client.get_client(write=True).connection_pool
        replies = direct_redis.execute_many(pool, commands)
    except (RedisError, OSError) as error:
        raise CounterUnavailable(str(error)) from error
    if read_along is not None:
        accept(read_along, replies[2])
    return int(replies[1])


def accept(read_along: ReadAlong, values: list) -> None:
    """A read-along is an optimisation: its failure must not fail the request (its module reads
    again by itself)."""
    try:
        read_along.accept(values)
    except Exception:
        logger.exception("A rate-limit read-along could not take its values; ignored")


def count_in_cache(cache, cache_key: str, expiry: int) -> int:
    """Any other cache backend (local memory in development): ``add`` then ``incr``."""
    try:
        cache.add(cache_key, 0, timeout=expiry)
        return cache.incr(cache_key)
    except ValueError:  # expired between the two calls: this request opens a new count
        cache.add(cache_key, 1, timeout=expiry)
        return 1
    except Exception as error:
        raise CounterUnavailable(str(error)) from error


# --- responses ------------------------------------------------------------------------------


def limited_response(request, group: str, usage: Usage) -> HttpResponse:
    message = _("Too many requests. Try again later.")
    if wants_json(request):
        details = {"group": group, "limit": usage.limit, "retry_after": usage.retry_after}
        response = JsonResponse(error_body(ErrorCode.RATE_LIMITED, message, details), status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(usage.retry_after)
    return response


def unavailable_response(request) -> HttpResponse:
    message = _("Rate limiting is unavailable. Try again shortly.")
    if wants_json(request):
        response = JsonResponse(error_body(ErrorCode.SERVICE_UNAVAILABLE, message), status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "5"
    return response


class OutageLog:
    """Log a counter outage at most once a minute per process: every request would flood the log."""

    interval = 60.0
    last = float("-inf")

    @classmethod
    def warn(cls, group: str, error: Exception, fail_open: bool) -> None:
        now = time.monotonic()
        if now - cls.last >= cls.interval:
            cls.last = now
            action = "letting requests through" if fail_open else "refusing requests"
            logger.warning("Rate-limit counter unavailable (%s), %s: %s", group, action, error)


class RateLimitMiddleware:
    """Count each API request against its group's shared limit; answer 429 past the limit.

    ``request.rate_limit_usage`` is the request's ``Usage`` once counted (None: not limited)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not hasattr(request, "rate_limit_usage"):
            # No view was reached (no route, or an inner middleware answered): count it now.
            rejection = self.check(request)
            if rejection is not None:
                return rejection
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        return self.check(request)

    def check(self, request) -> HttpResponse | None:
        request.rate_limit_usage = None
        if not settings.RATELIMIT_ENABLE:
            return None
        rule = rule_for(request.path_info, request.method)
        rate = settings.RATELIMIT_RATES.get(rule.group) if rule else None
        if not rate:
            return None
        try:
            usage = count_request(request, rule.group, rate_key(request, rule), rate)
        except CounterUnavailable as error:
            return self.counter_unavailable(request, rule.group, error)
        request.rate_limit_usage = usage
        if usage.exceeded:
            rate_limit_event.send(RateLimitMiddleware, group=rule.group, outcome="limited")
            return limited_response(request, rule.group, usage)
        return None

    def counter_unavailable(self, request, group: str, error: Exception) -> HttpResponse | None:
        fail_open = settings.RATELIMIT_FAIL_OPEN
        OutageLog.warn(group, error, fail_open)
        outcome = "failed_open" if fail_open else "failed_closed"
        rate_limit_event.send(RateLimitMiddleware, group=group, outcome=outcome)
        return None if fail_open else unavailable_response(request)
