"""Our own Prometheus figures. Other apps record through these functions and nothing else.

prometheus_client writes to per-process files when PROMETHEUS_MULTIPROC_DIR is set (gunicorn), so
every worker's counts add up in /metrics.
"""

from prometheus_client import Counter, Histogram

CACHE_REQUESTS = Counter(
    "etrainer_cache_requests_total",
    "Cache lookups by key family and result.",
    ["family", "result"],
)
ACCESS_CHECK_SECONDS = Histogram(
    "etrainer_access_check_seconds",
    "Time to build a user's access summary.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
AI_TOKENS_SPENT = Counter("etrainer_ai_tokens_spent_total", "AI tokens consumed.")
UPLOAD_BYTES = Counter("etrainer_upload_bytes_total", "Bytes uploaded, by category.", ["category"])
JOB_RUNS = Counter("etrainer_job_runs_total", "Job runs by job and final status.", ["job", "status"])
JOB_SECONDS = Histogram(
    "etrainer_job_duration_seconds",
    "Job run duration.",
    ["job"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)


def record_cache_lookup(family: str, *, hits: int, misses: int) -> None:
    if hits:
        CACHE_REQUESTS.labels(family=family, result="hit").inc(hits)
    if misses:
        CACHE_REQUESTS.labels(family=family, result="miss").inc(misses)


def observe_access_check(seconds: float) -> None:
    ACCESS_CHECK_SECONDS.observe(seconds)


def record_ai_tokens_spent(amount: int) -> None:
    AI_TOKENS_SPENT.inc(amount)


def record_upload(category: str, size: int) -> None:
    UPLOAD_BYTES.labels(category=category).inc(size)


def record_job_run(job: str, status: str, seconds: float) -> None:
    JOB_RUNS.labels(job=job, status=status).inc()
    JOB_SECONDS.labels(job=job).observe(seconds)
