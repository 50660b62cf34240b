"""Held Redis connections for the per-request hot path: the rate limiter's counter and the
access check's MGET, sent together in one write when both are due (``execute_many``).

redis-py's pooled call path (take a connection, retry wrapper, observability hooks, give it back)
costs about as much CPU as the loopback round trip it wraps. So ``DirectConnections`` keeps one
connection per pool, thread and process, of the pool's own class and settings (same host,
database, credentials, protocol, timeouts and circuit breaker: ``etrainer.redis_breaker``), and
talks on it through redis-py's public connection calls only: ``pack_commands``,
``send_packed_command`` and one ``read_response`` per command.

Before each use, ``can_read(timeout=0)`` finds a socket the server closed (a Redis restart) or one
holding bytes no command of ours asked for; it is dropped outside the breaker, so a restart costs
a reconnect, not an open breaker. Any error while sending or reading (an error reply included)
disconnects the connection, so the next call starts clean, and is raised to the caller.
"""

import os
import threading
import weakref

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.connection import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

# Bumped in a forked child: inherited sockets are the parent's, never to be written to. Cheaper
# than comparing os.getpid() (a system call) on every round trip.
forks = 0


def count_fork() -> None:
    global forks
    forks += 1


os.register_at_fork(after_in_child=count_fork)


class CacheBackends(threading.local):
    """This thread's cache backends by alias: ``caches[alias]`` goes through asgiref's ``Local``
    (several microseconds), which the hot path would pay on every request."""

    def __init__(self) -> None:
        self.backends: dict[str, BaseCache] = {}


cache_backends = CacheBackends()


def cache_backend(alias: str) -> BaseCache:
    """``caches[alias]``, the same object, looked up once per thread."""
    backend = cache_backends.backends.get(alias)
    if backend is None:
        backend = cache_backends.backends[alias] = caches[alias]
    return backend


@receiver(setting_changed, dispatch_uid="etrainer_redis_direct_backends")
def forget_cache_backends(*, setting: str, **kwargs) -> None:
    """Django starts new backends when CACHES changes (tests, in their one thread): so does this."""
    if setting == "CACHES":
        cache_backends.backends = {}


def django_redis_client(backend):
    """The django-redis client of a cache backend, or None for any other backend (local memory
    in development), which then takes its own code path."""
    client = getattr(backend, "client", None)
    return client if hasattr(client, "get_client") else None


class HeldConnection:
    """One redis-py connection of a pool's class, used by one thread of one process."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.connection = pool.connection_class(**pool.connection_kwargs)
        self.connected = False

    def round_trip(self, commands: list[tuple]) -> list:
        connection = self.connection
        if self.connected and self.is_stale():
            connection.disconnect()
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            self.connected = True
            return [connection.read_response() for _ in commands]
        except BaseException:
            self.disconnect()
            raise

    def is_stale(self) -> bool:
        """Readable between round trips: the server closed the socket, or bytes are left over
        that no command of ours asked for."""
        try:
            return self.connection.can_read(timeout=0)
        except (RedisConnectionError, OSError):
            return True

    def disconnect(self) -> None:
        self.connected = False
        self.connection.disconnect()


class DirectConnections(threading.local):
    """One connection per pool (a replicated setup reads from several), thread and process."""

    def __init__(self) -> None:
        self.connections: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.forks = forks

    def execute(self, pool: ConnectionPool, *command):
        return self.execute_many(pool, [command])[0]

    def execute_many(self, pool: ConnectionPool, commands: list[tuple]) -> list:
        """Send the commands in one write and read their replies: one round trip (a pipeline
        without MULTI). An error reply is raised, after the connection is dropped."""
        return self.held(pool).round_trip(commands)

    def held(self, pool: ConnectionPool) -> HeldConnection:
        if self.forks != forks:
            # After a fork the inherited sockets are the parent's: never write to them.
            self.connections, self.forks = weakref.WeakKeyDictionary(), forks
        held = self.connections.get(pool)
        if held is None:
            held = self.connections[pool] = HeldConnection(pool)
        return held

    def close(self) -> None:
        if self.forks == forks:
            for held in self.connections.values():
                held.disconnect()
        self.connections = weakref.WeakKeyDictionary()


# The one instance the project's hot paths share (the access check, the rate limiter).
direct_redis = DirectConnections()
