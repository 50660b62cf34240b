"""The access cache: the only module that spells cache keys, TTLs and invalidation.

Keys are namespaced and versioned (``etr:v1:sub:{user}``): Django's cache builds
``<KEY_PREFIX>:<version>:<key>``, and every call here passes ``version="v1"``.

Each family also has a version token (``etr:v1:ver:{family}``) that rides along in the same MGET
as the data keys. An entry is stored as ``(token, value)`` and is only a hit while its token is the
family's current one, so ``invalidate_family`` (a Plan edit) invalidates every user's entries with
one SET instead of a key scan, and a reader that raced a bump can never resurrect stale data.

Every read goes through ``fetch`` (one MGET: one Redis round trip) and records hits and misses per
family. Redis errors are swallowed (django-redis' IGNORE_EXCEPTIONS for writes, ``_get_many`` for
the read) behind the circuit breaker, so a dead Redis reads as misses and writes as no-ops.
"""

import pickle
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django_redis.compressors.identity import IdentityCompressor
from django_redis.serializers.pickle import PickleSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from etrainer.redis_direct import direct_redis, django_redis_client
from monitoring.metrics import record_cache_lookup

VERSION = "v1"
_PREFIX = settings.CACHE_KEY_PREFIX

KEY_FAMILIES = {
    "user": f"{_PREFIX}:{VERSION}:user:{{user}}",
    "sub": f"{_PREFIX}:{VERSION}:sub:{{user}}",
    "ai": f"{_PREFIX}:{VERSION}:ai:{{user}}",
    "grants": f"{_PREFIX}:{VERSION}:grants:{{user}}",
    "course": f"{_PREFIX}:{VERSION}:course:{{course}}",
}
USER_FAMILIES = ("user", "sub", "ai", "grants")
SUMMARY_FAMILIES = ("sub", "ai", "grants")
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


def plan_read(user_id: Any, families: Iterable[str], *, course_id: Any = None) -> PlannedRead:
    user_id = str(user_id)
    wanted = dict.fromkeys(families, user_id)
    if course_id is not None:
        wanted["course"] = str(course_id)
    keys = [_key(family, ident) for family, ident in wanted.items()]
    keys += [_version_key(family) for family in wanted]
    return PlannedRead(user_id=user_id, wanted=wanted, keys=keys)


def fetch(user_id: Any, families: Iterable[str], *, course_id: Any = None) -> Lookup:
    """Read the user's entries of ``families`` (and one course) in a single MGET."""
    planned = plan_read(user_id, families, course_id=course_id)
    return lookup_from(planned, _get_many(planned.keys))


def lookup_from(planned: PlannedRead, found: dict[str, Any]) -> Lookup:
    """The Lookup for what a planned read found (unprefixed key -> decoded value)."""
    lookup = Lookup(user_id=planned.user_id, idents=planned.wanted)
    for family, ident in planned.wanted.items():
        token = found.get(_version_key(family))
        entry = found.get(_key(family, ident))
        lookup.versions[family] = token
        hit = token is not None and entry is not None and entry[0] == token
        lookup.values[family] = entry[1] if hit else MISS
        record_cache_lookup(family, hits=int(hit), misses=int(not hit))
    return lookup


def redis_read(planned: PlannedRead) -> tuple[list[str], Callable[[list], Lookup]] | None:
    """The planned read as an MGET's full keys, and how to turn its reply into the Lookup.

    None when the cache is not django-redis (local memory in development)."""
    target = _redis_target(planned.keys)
    if target is None:
        return None
    client, full_keys = target

    def to_lookup(values: list) -> Lookup:
        return lookup_from(planned, _decoded(client, planned.keys, values))

    return full_keys, to_lookup


def _redis_target(keys: list[str]):
    """(django-redis client, the keys as stored) for the default cache, or None for another
    backend. The backend is taken once: each attribute of the ``cache`` proxy costs a lookup."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    client = django_redis_client(backend)
    if client is None:
        return None
    make_key = backend.make_key
    return client, [make_key(key, version=VERSION) for key in keys]


_REDIS_READ_ERRORS = (RedisConnectionError, RedisTimeoutError, RedisResponseError, socket.timeout)


def _get_many(keys: list[str]) -> dict[str, Any]:
    """``cache.get_many`` for the hot path: one MGET, on a connection of django-redis' own pool.

    django-redis' ``get_many`` spends about as long building ``CacheKey`` objects and mapping the
    reply back as the round trip itself, and redis-py's pooled call path as much again. This
    sends the MGET on a dedicated connection of the backend's pool class and settings
    (``etrainer.redis_direct``: circuit-broken, same timeouts), with keys from the backend's own
    ``make_key`` and values decoded as the backend would (``_decoder``). A Redis error reads as
    all misses, as IGNORE_EXCEPTIONS does. Other backends (local memory in development) take
    their own ``get_many``.
    """
    target = _redis_target(keys)
    if target is None:
        return caches[DEFAULT_CACHE_ALIAS].get_many(keys, version=VERSION)
    client, full_keys = target
    try:
        pool = client.get_client(write=False).connection_pool
        values = direct_redis.execute(pool, "MGET", *full_keys)
    except _REDIS_READ_ERRORS:
        return {}
    return _decoded(client, keys, values)


def _decoded(client, keys: list[str], values: list) -> dict[str, Any]:
    decode = _decoder(client)
    return {
        key: decode(value) for key, value in zip(keys, values, strict=True) if value is not None
    }


def _decoder(client) -> Callable[[bytes], Any]:
    """django-redis' ``decode`` first tries ``int(value)``, an exception per pickled value. Every
    value this module writes is a tuple or a str, never an int, so with the default pickle
    serializer and no compressor ``pickle.loads`` alone decodes it; any other setup keeps
    ``decode``."""
    serializer = getattr(client, "_serializer", None)
    compressor = getattr(client, "_compressor", None)
    if type(serializer) is PickleSerializer and type(compressor) is IdentityCompressor:
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


def invalidate(user_id: Any, *families: str) -> None:
    cache.delete_many([_key(family, str(user_id)) for family in families], version=VERSION)


def invalidate_users(user_ids: Iterable[Any], families: Iterable[str] = USER_FAMILIES) -> int:
    """Delete the given families' keys for many users (bulk jobs), in bounded chunks."""
    families = tuple(families)
    ids = iter(user_ids)
    deleted = 0
    while chunk := list(islice(ids, _BULK_CHUNK)):
        keys = [_key(family, str(uid)) for uid in chunk for family in families]
        deleted += _delete_many(keys)
    return deleted


def invalidate_user(user_id: Any) -> int:
    """Delete every key of one user; returns how many existed."""
    return invalidate_users([user_id])


def invalidate_course(course_id: Any) -> None:
    cache.delete(_key("course", str(course_id)), version=VERSION)


def invalidate_family(family: str) -> None:
    """Bump the family's version token: every entry of the family becomes a miss at once."""
    if family not in KEY_FAMILIES:
        raise ValueError(f"unknown cache family: {family}")
    cache.set(_version_key(family), secrets.token_hex(4), timeout=None, version=VERSION)


def _delete_many(keys: list[str]) -> int:
    deleted = cache.delete_many(keys, version=VERSION)
    if isinstance(deleted, int):
        return deleted
    # Backends other than django-redis (local memory in development) return nothing.
    return len(keys)
