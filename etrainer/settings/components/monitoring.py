"""/metrics, /health and the slow-request and slow-query logs."""

from etrainer.env import env

PROMETHEUS_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, float("inf"),
)  # fmt: skip
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN", default="")
# host:port where a Celery worker serves its own /metrics (job run counters); empty: off.
METRICS_WORKER_BIND = env("METRICS_WORKER_BIND", default="")
SLOW_REQUEST_MS = env.float("SLOW_REQUEST_MS", default=1000)
SLOW_QUERY_MS = env.float("SLOW_QUERY_MS", default=200)
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=0.8)
HEALTH_BROKER_TIMEOUT_SECONDS = env.float("HEALTH_BROKER_TIMEOUT_SECONDS", default=0.5)
CELERY_PING_TIMEOUT_SECONDS = env.float("CELERY_PING_TIMEOUT_SECONDS", default=0.5)
CACHE_DASHBOARD_SCAN_LIMIT = env.int("CACHE_DASHBOARD_SCAN_LIMIT", default=10000)
