"""A per-process circuit breaker under django-redis.

redis-py waits a full socket timeout on every call to a hung Redis. With the breaker, the first
connection or timeout error opens it and every Redis call in this process then fails at once
(django-redis's IGNORE_EXCEPTIONS turns that into a cache miss) until the reset period has passed;
the next call is the probe that closes it again or re-opens it. A hung Redis therefore costs at
most one timeout per process per reset period.
"""

import logging
import threading
import time

from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger("etrainer.cache")


class CircuitBreaker:
    def __init__(self, reset_seconds: float) -> None:
        self.reset_seconds = reset_seconds
        self.opened_at: float | None = None
        self.trips = 0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        opened_at = self.opened_at
        return opened_at is not None and time.monotonic() - opened_at < self.reset_seconds

    def guard(self) -> None:
        if self.is_open:
            raise RedisConnectionError("Redis circuit breaker is open")

    def record_failure(self, error: Exception) -> None:
        with self._lock:
            if not self.is_open:
                self.trips += 1
                logger.warning(
                    "Redis unavailable, breaker open for %ss: %s", self.reset_seconds, error
                )
            self.opened_at = time.monotonic()

    def record_success(self) -> None:
        if self.opened_at is not None:
            with self._lock:
                self.opened_at = None
            logger.info("Redis reachable again, breaker closed")

    def reset(self) -> None:
        self.opened_at = None


breaker = CircuitBreaker(reset_seconds=5.0)


def configure_breaker(reset_seconds: float) -> None:
    breaker.reset_seconds = reset_seconds


_REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)


class CircuitBreakerConnection(Connection):
    """A redis-py connection that consults the process's breaker before touching the socket."""

    def __init__(self, *args, **kwargs):
        # No retries with backoff: the breaker is the retry policy.
        kwargs["retry"] = Retry(NoBackoff(), 0)
        super().__init__(*args, **kwargs)

    def connect(self):
        breaker.guard()
        try:
            return super().connect()
        except _REDIS_ERRORS as error:
            breaker.record_failure(error)
            raise

    def send_packed_command(self, command, check_health=True):
        breaker.guard()
        try:
            return super().send_packed_command(command, check_health=check_health)
        except _REDIS_ERRORS as error:
            breaker.record_failure(error)
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)
        except _REDIS_ERRORS as error:
            breaker.record_failure(error)
            raise
        breaker.record_success()
        return response
