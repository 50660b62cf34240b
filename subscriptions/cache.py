"""The access cache: the only module that spells cache keys, TTLs and invalidation.

Keys are namespaced and versioned (``etr:v1:sub:{user}``): Django's cache builds
``<KEY_PREFIX>:<version>:<key>``, and every call here passes ``version="v1"``.

Each family also has a version token (``etr:v1:ver:{family}``) that rides along in the same MGET
as the data keys. An entry is stored as ``(token, value)`` and is only a hit while its token is the
family's current one, so ``invalidate_family`` (a Plan edit) invalidates every user's entries with
one SET instead of a key scan, and a reader that raced a bump can never resurrect stale data.

Every read goes through ``fetch`` (one MGET: one Redis round trip) and records hits and misses per
family. Redis errors are swallowed behind the circuit breaker, so a dead Redis reads as misses.

An invalidation Redis does not take (down, hung, breaker open) is not dropped: it is recorded in
the database (``PendingInvalidation``) and replayed by ``replay_pending``. The replay marker
(``etr:v1:ver:replayed``, the time of the last replay) rides in the same MGET; a reader trusts a
hit only while the marker is at most ``ACCESS_CACHE_REPLAY_SECONDS`` old, and otherwise replays
first (one query, at most once per that period for the whole cluster, not per request). So a
change whose invalidation was lost is honoured within that bound. A lost marker (a flushed or
restarted Redis, an eviction) vouches for nothing: a read with hits replays first, a read without
gives every family a new version token (all entries void) and starts the marker again.
"""

import logging
import pickle
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from etrainer.metrics import record_cache_lookup
from etrainer.redis_direct import cache_backend, direct_redis, django_redis_client
from subscriptions.models import PendingInvalidation

logger = logging.getLogger("etrainer.cache")

VERSION = "v1"
_PREFIX = settings.CACHE_KEY_PREFIX

KEY_FAMILIES = {
    "user": f"{_PREFIX}:{VERSION}:user:{{user}}",
    "sub": f"{_PREFIX}:{VERSION}:sub:{{user}}",
    "ai": f"{_PREFIX}:{VERSION}:ai:{{user}}",
    "grants": f"{_PREFIX}:{VERSION}:grants:{{user}}",
    "course": f"{_PREFIX}:{VERSION}:course:{{course}}",
    # Whole public list responses (subscriptions.list_cache), one per language, URL and page.
    "plans": f"{_PREFIX}:{VERSION}:plans:{{page}}",
    "courses": f"{_PREFIX}:{VERSION}:courses:{{page}}",
}
USER_FAMILIES = ("user", "sub", "ai", "grants")
SUMMARY_FAMILIES = ("sub", "ai", "grants")
REPLAYED_KEY = "ver:replayed"
_BULK_CHUNK = 500


class _Miss:
    def __repr__(self) -> str:
        return "MISS"


MISS: Any = _Miss()


def ttl(family: str) -> int:
    return settings.ACCESS_CACHE_TTLS[family]


def _key(family: str, ident: str) -> str:
    return f"{family}:{ident}"


def _version_key(family: str) -> str:
    return f"ver:{family}"


@dataclass
class Lookup:
    """What one ``fetch`` found: per family, the cached value or MISS, and the version tokens."""

    user_id: str
    values: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=dict)
    idents: dict[str, str] = field(default_factory=dict)
    # Rows loaded from the database as a side effect of authentication (cold path).
    preloaded: dict[str, Any] = field(default_factory=dict)

    def get(self, family: str) -> Any:
        return self.values.get(family, MISS)

    def store(self, family: str, value: Any) -> None:
        self.values[family] = value
        store(family, self.idents.get(family, self.user_id), value, self.versions.get(family))


@dataclass(frozen=True)
class PlannedRead:
    """The keys one ``fetch`` reads, so that they can also travel in another module's round trip
    (the rate limiter's: ``access_read_along``)."""

    user_id: str
    wanted: dict[str, str]  # family -> ident (the user's id, or the course's)
    keys: list[str]


def plan_read(
    user_id: Any,
    families: Iterable[str],
    *,
    course_id: Any = None,
    extra: dict[str, str] | None = None,
) -> PlannedRead:
    """``extra``: more entries for the same round trip, family -> ident (a public list page)."""
    user_id = str(user_id)
    wanted = dict.fromkeys(families, user_id)
    if course_id is not None:
        wanted["course"] = str(course_id)
    if extra:
        wanted.update(extra)
    keys = [_key(family, ident) for family, ident in wanted.items()]
    keys += [_version_key(family) for family in wanted]
    keys.append(REPLAYED_KEY)
    return PlannedRead(user_id=user_id, wanted=wanted, keys=keys)


def fetch(
    user_id: Any,
    families: Iterable[str],
    *,
    course_id: Any = None,
    extra: dict[str, str] | None = None,
) -> Lookup:
    """Read the user's entries of ``families`` (and one course, and ``extra``) in a single MGET."""
    planned = plan_read(user_id, families, course_id=course_id, extra=extra)
    return lookup_from(planned, read_planned(planned))


def read_planned(planned: PlannedRead) -> dict[str, Any] | None:
    """What the planned read finds in Redis (None: Redis could not be read)."""
    return _get_many(planned.keys)


def lookup_from(planned: PlannedRead, found: dict[str, Any] | None) -> Lookup:
    """The Lookup for what a planned read found (unprefixed key -> decoded value; None when Redis
    could not be read: all misses)."""
    lookup = Lookup(user_id=planned.user_id, idents=planned.wanted)
    values = dict.fromkeys(planned.wanted, MISS)
    if found is not None:
        keys, count = planned.keys, len(planned.wanted)
        # plan_read's order: the entries' keys, then their version tokens', then the marker.
        for position, family in enumerate(planned.wanted):
            token = found.get(keys[count + position])
            entry = found.get(keys[position])
            lookup.versions[family] = token
            if token is not None and entry is not None and entry[0] == token:
                values[family] = entry[1]
        if not _vouched(lookup, found.get(REPLAYED_KEY), values):
            values = dict.fromkeys(planned.wanted, MISS)
    for family, value in values.items():
        hit = value is not MISS
        lookup.values[family] = value
        record_cache_lookup(family, hits=int(hit), misses=int(not hit))
    return lookup


def _vouched(lookup: Lookup, replayed_at: Any, values: dict[str, Any]) -> bool:
    """May the hits be trusted: the marker is fresh, or a replay has just found nothing to apply
    (hits read before a replay that deleted entries may be the very entries it deleted)."""
    if isinstance(replayed_at, float) and time.time() - replayed_at <= replay_seconds():
        return True
    if any(value is not MISS for value in values.values()):
        return replay_pending() == 0
    if replayed_at is None:
        tokens = _new_epoch()
        lookup.versions = {family: tokens[_version_key(family)] for family in lookup.versions}
    return True


def replay_seconds() -> float:
    return settings.ACCESS_CACHE_REPLAY_SECONDS


def _new_epoch() -> dict[str, str]:
    """No replay marker and nothing to trust yet: rather than a replay (a query on a cold read),
    void every entry (new version tokens for every family) and start the marker now.

    Two readers doing this at once only cost each other one more miss."""
    tokens = {_version_key(family): secrets.token_hex(4) for family in KEY_FAMILIES}
    cache.set_many(tokens, timeout=None, version=VERSION)
    cache.add(REPLAYED_KEY, time.time(), timeout=None, version=VERSION)
    return tokens


def replay_pending() -> int | None:
    """Apply the invalidations Redis missed, then vouch for the cache for another period.

    Returns how many were applied, or None when Redis could not take them. Rows are deleted only
    once Redis took them, so a replay cut short is finished by the next one; replaying a row
    twice is harmless. The marker is the time this replay started: a row recorded later waits
    for the next one.
    """
    started = time.time()
    pending = PendingInvalidation.objects.order_by("pk").values_list("pk", "family", "ident")
    applied = 0
    while rows := list(pending[:_BULK_CHUNK]):
        entries = [_key(family, ident) for _, family, ident in rows if ident]
        bumps = {family for _, family, ident in rows if not ident}
        if (entries and _delete(entries) is None) or (bumps and not _bump(bumps)):
            return None
        PendingInvalidation.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
        applied += len(rows)
        if len(rows) < _BULK_CHUNK:
            break
    cache.set(REPLAYED_KEY, started, timeout=None, version=VERSION)
    return applied


def redis_read(planned: PlannedRead) -> tuple[list[str], Callable[[list], Lookup]] | None:
    """The planned read as an MGET's full keys, and how to turn its reply into the Lookup.

    None when the cache is not django-redis (local memory in development)."""
    target = hot_target()
    if target.client is None:
        return None

    def to_lookup(values: list) -> Lookup:
        return lookup_from(planned, target.decoded(planned.keys, values))

    return target.full_keys(planned.keys), to_lookup


class HotTarget:
    """The default cache as the hot path talks to it, taken once per thread.

    Each ``caches[alias]`` goes through asgiref's ``Local`` (about 10 us on the reference
    machine), and the decoder and the stored keys are the same on every request: so the backend,
    its django-redis client (None for another backend), the decoder and the full keys of recent
    reads are kept here. ``CACHES`` changing (tests) starts afresh (``reset_hot_targets``).
    """

    max_keys = 8192

    def __init__(self) -> None:
        self.backend = cache_backend(DEFAULT_CACHE_ALIAS)
        self.client = django_redis_client(self.backend)
        self.decode = (
            decoder(self.client, settings.CACHES[DEFAULT_CACHE_ALIAS].get("OPTIONS", {}))
            if self.client is not None
            else None
        )
        self.keys: dict[str, str] = {}

    def full_keys(self, keys: list[str]) -> list[str]:
        """The keys as stored (the backend's own ``make_key``), memoised."""
        memo = self.keys
        try:
            return [memo[key] for key in keys]
        except KeyError:
            if len(memo) > self.max_keys:
                memo.clear()
            make_key = self.backend.make_key
            for key in keys:
                memo[key] = make_key(key, version=VERSION)
            return [memo[key] for key in keys]

    def decoded(self, keys: list[str], values: list) -> dict[str, Any]:
        decode = self.decode
        return {
            key: decode(value) for key, value in zip(keys, values, strict=True) if value is not None
        }


class HotTargets(threading.local):
    target: HotTarget | None = None


hot_targets = HotTargets()


def hot_target() -> HotTarget:
    target = hot_targets.target
    if target is None:
        target = hot_targets.target = HotTarget()
    return target


@receiver(setting_changed, dispatch_uid="subs_cache_hot_targets")
def reset_hot_targets(*, setting: str, **kwargs) -> None:
    """Django starts new cache backends when CACHES changes; so does this module's memo (only
    the current thread's: settings change in tests, which run in one thread)."""
    if setting == "CACHES":
        hot_targets.target = None


_REDIS_READ_ERRORS = (RedisConnectionError, RedisTimeoutError, RedisResponseError, socket.timeout)


def _get_many(keys: list[str]) -> dict[str, Any] | None:
    """``cache.get_many`` for the hot path: one MGET, on a connection of django-redis' own pool.

    django-redis' ``get_many`` spends about as long building ``CacheKey`` objects and mapping the
    reply back as the round trip itself, and redis-py's pooled call path as much again. This
    sends the MGET on a dedicated connection of the backend's pool class and settings
    (``etrainer.redis_direct``: circuit-broken, same timeouts), with keys from the backend's own
    ``make_key`` and values decoded as the backend would (``decoder``). A Redis error reads as
    all misses, as IGNORE_EXCEPTIONS does. Other backends (local memory in development) take
    their own ``get_many``.
    """
    target = hot_target()
    client = target.client
    if client is None:
        return target.backend.get_many(keys, version=VERSION)
    try:
        pool = client.get_client(write=False).connection_pool
        values = direct_redis.execute(pool, "MGET", *target.full_keys(keys))
    except _REDIS_READ_ERRORS:
        return None
    return target.decoded(keys, values)


PICKLE_SERIALIZER = "django_redis.serializers.pickle.PickleSerializer"
IDENTITY_COMPRESSOR = "django_redis.compressors.identity.IdentityCompressor"


def decoder(client, options: dict) -> Callable[[bytes], Any]:
    """django-redis' ``decode`` first tries ``int(value)``, an exception per pickled value. Every
    value this module writes is a tuple, a str or a float, never an int, so with the default pickle
    serializer and no compressor (the cache's ``OPTIONS``) ``pickle.loads`` alone decodes it; any
    other setup keeps ``decode``."""
    serializer = options.get("SERIALIZER", PICKLE_SERIALIZER)
    compressor = options.get("COMPRESSOR", IDENTITY_COMPRESSOR)
    if serializer == PICKLE_SERIALIZER and compressor == IDENTITY_COMPRESSOR:
        return pickle.loads
    return client.decode


def store(family: str, ident: str, value: Any, token: str | None = None) -> None:
    """Write one entry under the family's current version token."""
    token = token or _current_version(family)
    cache.set(_key(family, str(ident)), (token, value), timeout=ttl(family), version=VERSION)


def _current_version(family: str) -> str:
    key = _version_key(family)
    token = secrets.token_hex(4)
    if cache.add(key, token, timeout=None, version=VERSION):
        return token
    return cache.get(key, version=VERSION) or token


def refresh(family: str, ident: Any, value: Any) -> None:
    """Replace an entry after a change (the new AI-token balance); if Redis does not take it, the
    old entry is invalidated by the replay instead."""
    key = _key(family, str(ident))
    entry = (_current_version(family), value)
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = django_redis_client(backend)
    if client is None:
        backend.set(key, entry, timeout=ttl(family), version=VERSION)
        return
    try:
        client.set(key, entry, timeout=ttl(family), version=VERSION)
    except ConnectionInterrupted:
        _record([(family, str(ident))])


def invalidate(user_id: Any, *families: str) -> None:
    _invalidate([(family, str(user_id)) for family in families])


def invalidate_users(user_ids: Iterable[Any], families: Iterable[str] = USER_FAMILIES) -> int:
    """Delete the given families' keys for many users (bulk jobs), in bounded chunks."""
    families = tuple(families)
    ids = iter(user_ids)
    deleted = 0
    while chunk := list(islice(ids, _BULK_CHUNK)):
        deleted += _invalidate([(family, str(uid)) for uid in chunk for family in families])
    return deleted


def invalidate_user(user_id: Any) -> int:
    """Delete every key of one user; returns how many existed."""
    return invalidate_users([user_id])


def invalidate_course(course_id: Any) -> None:
    _invalidate([("course", str(course_id))])


def invalidate_family(family: str) -> None:
    """Bump the family's version token: every entry of the family becomes a miss at once."""
    if family not in KEY_FAMILIES:
        raise ValueError(f"unknown cache family: {family}")
    if not _bump([family]):
        _record([(family, "")])


def _invalidate(entries: list[tuple[str, str]]) -> int:
    """Delete (family, ident) entries; how many existed. Redis unreachable: recorded, 0."""
    deleted = _delete([_key(family, ident) for family, ident in entries])
    if deleted is None:
        _record(entries)
        return 0
    return deleted


def _record(entries: list[tuple[str, str]]) -> None:
    logger.warning("Redis did not take %d cache invalidation(s); recorded for replay", len(entries))
    PendingInvalidation.objects.bulk_create(
        [PendingInvalidation(family=family, ident=ident) for family, ident in entries],
        batch_size=_BULK_CHUNK,
    )


def _delete(keys: list[str]) -> int | None:
    """Delete keys: how many existed, or None when Redis did not take the command."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = django_redis_client(backend)
    if client is None:
        # Backends other than django-redis (local memory in development) count nothing.
        backend.delete_many(keys, version=VERSION)
        return len(keys)
    try:
        return client.delete_many(keys, version=VERSION)
    except ConnectionInterrupted:
        return None


def _bump(families: Iterable[str]) -> bool:
    """New version tokens for the families; False when Redis did not take them."""
    tokens = {_version_key(family): secrets.token_hex(4) for family in families}
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = django_redis_client(backend)
    if client is None:
        backend.set_many(tokens, timeout=None, version=VERSION)
        return True
    try:
        client.set_many(tokens, timeout=None, version=VERSION)
    except ConnectionInterrupted:
        return False
    return True
