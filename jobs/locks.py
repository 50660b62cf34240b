"""The per-job lock: two runs of one job never overlap, across every worker process.

With Redis (REDIS_URL set) it is a redis-py Lock: SET NX with a TTL and a random token, released
by a Lua script that deletes the key only if it still holds our token. Without Redis (development,
eager tasks in one process) it falls back to the local-memory cache, which is atomic within that
one process — the only place eager jobs run. If Redis is configured but unreachable the lock
raises ``LockUnavailable``: a job never runs unlocked.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from redis.exceptions import LockError, RedisError

logger = logging.getLogger("etrainer.jobs")


class LockUnavailable(Exception):
    """The lock store could not be reached, so nobody can tell whether another run is active."""


def lock_key(job: str) -> str:
    return f"{settings.CACHE_KEY_PREFIX}:v1:job-lock:{job}"


class JobLock:
    def __init__(self, job: str, *, ttl: int) -> None:
        self.job = job
        self.ttl = ttl
        self._redis_lock = None
        self._token = uuid.uuid4().hex

    def acquire(self) -> bool:
        if not settings.REDIS_URL:
            return cache.add(lock_key(self.job), self._token, self.ttl)
        try:
            client = get_redis_connection("default")
            self._redis_lock = client.lock(
                lock_key(self.job), timeout=self.ttl, blocking=False, thread_local=False
            )
            return bool(self._redis_lock.acquire(token=self._token))
        except RedisError as error:
            self._redis_lock = None
            raise LockUnavailable(f"Redis unreachable for the job lock: {error}") from error

    def release(self) -> None:
        if not settings.REDIS_URL:
            if cache.get(lock_key(self.job)) == self._token:
                cache.delete(lock_key(self.job))
            return
        if self._redis_lock is None:
            return
        try:
            self._redis_lock.release()
        except LockError:
            logger.warning("Job %s: lock expired before release (run outlived its TTL)", self.job)
        except RedisError as error:
            logger.warning("Job %s: lock not released, it expires in its TTL: %s", self.job, error)
        self._redis_lock = None
