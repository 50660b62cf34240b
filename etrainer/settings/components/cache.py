"""Cache: Redis when ``REDIS_URL`` is set (behind the circuit breaker), else process-local memory.

The breaker's reset period is applied at start-up (etrainer.apps.ProjectConfig.ready), not here.
"""

from etrainer.env import env
from etrainer.redis_breaker import CircuitBreakerConnection

REDIS_URL = env("REDIS_URL", default="")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="etr")
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.25)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.25)
REDIS_BREAKER_RESET_SECONDS = env.float("REDIS_BREAKER_RESET_SECONDS", default=5.0)
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=50)

DJANGO_REDIS_BACKEND = "django_redis.cache.RedisCache"
# A django-redis subclass that counts hits and misses for /metrics: same OPTIONS.
PROMETHEUS_REDIS_BACKEND = "django_prometheus.cache.backends.redis.RedisCache"


def redis_cache(url: str, *, backend: str = DJANGO_REDIS_BACKEND) -> dict:
    """django-redis on a circuit-broken connection: a dead or hung Redis degrades to misses."""
    return {
        "BACKEND": backend,
        "LOCATION": url,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "CONNECTION_POOL_KWARGS": {
                "connection_class": CircuitBreakerConnection,
                "max_connections": REDIS_MAX_CONNECTIONS,
            },
        },
    }


LOCMEM_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "etrainer",
    "KEY_PREFIX": CACHE_KEY_PREFIX,
}
CACHES = {
    "default": redis_cache(REDIS_URL, backend=PROMETHEUS_REDIS_BACKEND)
    if REDIS_URL
    else LOCMEM_CACHE
}
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
# The breaker logs once per outage; a traceback per cache call would flood the log.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

# Sessions (admin, browsable API) never live in process memory.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Seconds each access-cache family lives (DESIGN.md §6); Plan edits bump a version instead.
ACCESS_CACHE_TTLS = {
    "sub": env.int("ACCESS_CACHE_SUB_TTL", default=300),
    "ai": env.int("ACCESS_CACHE_AI_TTL", default=60),
    "grants": env.int("ACCESS_CACHE_GRANTS_TTL", default=600),
    "course": env.int("ACCESS_CACHE_COURSE_TTL", default=600),
    "user": env.int("ACCESS_CACHE_USER_TTL", default=300),
    # Whole public list pages (/api/plans, /api/courses); every change bumps the family's version.
    "plans": env.int("ACCESS_CACHE_PLANS_TTL", default=3600),
    "courses": env.int("ACCESS_CACHE_COURSES_TTL", default=3600),
}
# A cached entry is trusted only while invalidations Redis missed were replayed at most this long
# ago: the bound on how stale a deactivation, downgrade or revocation can be (subscriptions.cache).
ACCESS_CACHE_REPLAY_SECONDS = env.float("ACCESS_CACHE_REPLAY_SECONDS", default=5.0)
# Users per process whose composed access summary and JSON body are kept (about 4 KB each), reused
# while their entries read from Redis are unchanged (subscriptions.rendered); 0 turns it off.
ACCESS_SUMMARY_MEMO_SIZE = env.int("ACCESS_SUMMARY_MEMO_SIZE", default=1024)
