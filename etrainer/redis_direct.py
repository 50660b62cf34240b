"""Dedicated Redis connections for the per-request hot path: the rate limiter's counter and the
access check's MGET, sent together in one write when both are due (``execute_many``).

redis-py's pooled call path (take a connection, retry wrapper, observability hooks, give it back)
costs about as much CPU as the loopback round trip it wraps: about 95 us of client CPU per MGET
against about 60 us on one held connection (reference machine, ../shared/PERFORMANCE.md). So
``DirectConnections`` keeps one connection per pool, thread and process, of the pool's own class
and settings (circuit-broken, same host, database and timeouts), and sends on it directly.

A socket the server closed (a Redis restart) is found the way the pool finds it, with
``can_read()`` before use, outside the breaker: a restart costs a reconnect, not an open breaker.
An error while sending or reading disconnects the connection (the next call reconnects) and is
raised to the caller; the connection's breaker has counted it.
"""

import os
import threading
import weakref

from redis.connection import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError


def django_redis_client(backend):
    """The django-redis client of a cache backend, or None for any other backend (local memory
    in development), which then takes its own code path."""
    client = getattr(backend, "client", None)
    return client if hasattr(client, "get_client") else None


class DirectConnections(threading.local):
    """One connection per pool (a replicated setup reads from several), thread and process."""

    def __init__(self) -> None:
        self.connections: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.pid = os.getpid()

    def execute(self, pool: ConnectionPool, *command):
        return self.execute_many(pool, [command])[0]

    def execute_many(self, pool: ConnectionPool, commands: list[tuple]) -> list:
        """Send the commands in one write and read their replies: one round trip (a pipeline
        without MULTI). An error reply is raised, after the connection is dropped."""
        connection = self._connection(pool)
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            return [connection.read_response() for _ in commands]
        except BaseException:
            connection.disconnect()
            raise

    def _connection(self, pool: ConnectionPool):
        if self.pid != os.getpid():
            # After a fork the inherited sockets are the parent's: never write to them.
            self.connections, self.pid = weakref.WeakKeyDictionary(), os.getpid()
        connection = self.connections.get(pool)
        if connection is None:
            connection = pool.connection_class(**pool.connection_kwargs)
            self.connections[pool] = connection
            return connection
        try:
            if connection.can_read():
                # Unread data: a reply is out of step with its command. Start afresh.
                connection.disconnect()
        except (RedisConnectionError, OSError):
            connection.disconnect()  # closed by the server; send_command reconnects
        return connection

    def close(self) -> None:
        if self.pid == os.getpid():
            for connection in self.connections.values():
                connection.disconnect()
        self.connections = weakref.WeakKeyDictionary()


# The one instance the project's hot paths share (the access check, the rate limiter).
direct_redis = DirectConnections()
