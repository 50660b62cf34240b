"""A dedicated Redis connection per thread for the hottest read: the access check's one MGET.

redis-py's pooled call path (take a connection, retry wrapper, observability hooks, give it back)
costs about as much CPU as the loopback round trip it wraps: about 95 us of client CPU per MGET
against about 60 us on one held connection (reference machine, ../shared/PERFORMANCE.md). The
access check makes exactly one Redis command per request, so ``DedicatedReader`` keeps one
connection per thread and process, of the pool's own class and settings (circuit-broken, same
host, database and timeouts), and sends the command on it directly.

A socket the server closed (a Redis restart) is found the way the pool finds it, with
``can_read()`` before use, outside the breaker: a restart costs a reconnect, not an open breaker.
An error while sending or reading disconnects the connection (the next call reconnects) and is
raised to the caller; the connection's breaker has counted it.
"""

import os
import threading

from redis.connection import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError


class DedicatedReader(threading.local):
    def __init__(self) -> None:
        self.connection = None
        self.pool: ConnectionPool | None = None
        self.pid: int | None = None

    def execute(self, pool: ConnectionPool, *command):
        connection = self._connection(pool)
        try:
            connection.send_command(*command)
            return connection.read_response()
        except BaseException:
            connection.disconnect()
            raise

    def _connection(self, pool: ConnectionPool):
        connection = self.connection
        if connection is None or self.pool is not pool or self.pid != os.getpid():
            # After a fork the inherited socket is the parent's: never write to it.
            connection = pool.connection_class(**pool.connection_kwargs)
            self.connection, self.pool, self.pid = connection, pool, os.getpid()
            return connection
        try:
            if connection.can_read():
                # Unread data: a reply is out of step with its command. Start afresh.
                connection.disconnect()
        except (RedisConnectionError, OSError):
            connection.disconnect()  # closed by the server; send_command reconnects
        return connection

    def close(self) -> None:
        if self.connection is not None and self.pid == os.getpid():
            self.connection.disconnect()
        self.connection = self.pool = self.pid = None
