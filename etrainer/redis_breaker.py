"""A per-process circuit breaker under django-redis.

redis-py waits a full socket timeout on every call to a hung Redis. With the breaker, the first
connection or timeout error opens it and every Redis call in this process then fails at once
(django-redis's IGNORE_EXCEPTIONS turns that into a cache miss) until the reset period has passed;
the next call is the probe that closes it again or re-opens it. A hung Redis therefore costs at
most one timeout per process per reset period.
"""

import logging

from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from etrainer.circuit_breaker import CircuitBreaker

logger = logging.getLogger("etrainer.cache")


breaker = CircuitBreaker(
    name="Redis", reset_seconds=5.0, open_error=RedisConnectionError, logger=logger
)


def configure_breaker(reset_seconds: float) -> None:
    breaker.reset_seconds = reset_seconds


_REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)


class CircuitBreakerConnection(Connection):
    """A redis-py connection that consults the process's breaker before touching the socket."""

    # etrainer.redis_direct talks to the socket itself on the hot path and reports to it.
    breaker = breaker

    def __init__(self, *args, **kwargs):
        # No retries with backoff: the breaker is the retry policy.
        kwargs["retry"] = Retry(NoBackoff(), 0)
        super().__init__(*args, **kwargs)

    def connect(self):
        breaker.before_call()
        try:
            return super().connect()
        except _REDIS_ERRORS as error:
            breaker.record_failure(error)
            raise

    def send_packed_command(self, command, check_health=True):
        breaker.before_call()
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
