"""Our own Prometheus figures. Other apps record through these functions and nothing else.

prometheus_client writes to per-process files when PROMETHEUS_MULTIPROC_DIR is set (gunicorn), so
every worker's counts add up in /metrics. Per-process gauges use the ``liveall`` mode: one series
per live worker (``pid`` label), dropped by gunicorn's child-exit hook when the worker dies.
"""

import functools
import itertools
import os
import time
from collections.abc import Iterable

import psutil
from prometheus_client import Counter, Gauge, Histogram

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
# Job figures name the job ``job_name``: Prometheus gives every scraped series the target labels
# ``job`` and ``instance``, and renames a clashing label of ours to ``exported_job``.
JOB_RUNS = Counter(
    "etrainer_job_runs_total", "Job runs by job and final status.", ["job_name", "status"]
)
JOB_SECONDS = Histogram(
    "etrainer_job_duration_seconds",
    "Job run duration.",
    ["job_name"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)

PROCESS_MEMORY = Gauge(
    "etrainer_process_resident_memory_bytes",
    "Resident memory of each serving process.",
    multiprocess_mode="liveall",
)
PROCESS_REQUESTS = Gauge(
    "etrainer_process_requests_served",
    "Requests served by each process since it started.",
    multiprocess_mode="liveall",
)
MEMORY_REFRESH_SECONDS = 5.0

_served = itertools.count(1)
_memory_sampled_at = -MEMORY_REFRESH_SECONDS
_process: psutil.Process | None = None


@functools.cache
def _cache_requests(family: str, result: str):
    """The labelled child, looked up once: ``labels()`` validates and copies on every call, and
    this runs several times per access check (the children stay fork-safe: values check the pid)."""
    return CACHE_REQUESTS.labels(family=family, result=result)


def record_cache_lookup(family: str, *, hits: int, misses: int) -> None:
    if hits:
        _cache_requests(family, "hit").inc(hits)
    if misses:
        _cache_requests(family, "miss").inc(misses)


def observe_access_check(seconds: float) -> None:
    ACCESS_CHECK_SECONDS.observe(seconds)


def record_ai_tokens_spent(amount: int) -> None:
    AI_TOKENS_SPENT.inc(amount)


def record_upload(category: str, size: int) -> None:
    UPLOAD_BYTES.labels(category=category).inc(size)


def declare_job_runs(jobs: Iterable[str], statuses: Iterable[str]) -> None:
    """Each job's run counters at 0 from the start: a series first seen at 1 shows Prometheus no
    increase, so the first failure of a job in a fresh worker would never alert."""
    for job in jobs:
        for status in statuses:
            JOB_RUNS.labels(job_name=job, status=status)


def record_job_run(job: str, status: str, seconds: float) -> None:
    JOB_RUNS.labels(job_name=job, status=status).inc()
    JOB_SECONDS.labels(job_name=job).observe(seconds)


def record_request_served() -> None:
    """Per-process figures for the cluster view; memory is sampled at most every few seconds."""
    PROCESS_REQUESTS.set(next(_served))
    if time.monotonic() - _memory_sampled_at >= MEMORY_REFRESH_SECONDS:
        sample_process_memory()


def sample_process_memory() -> int:
    global _memory_sampled_at, _process
    if _process is None or _process.pid != os.getpid():
        _process = psutil.Process()
    rss = _process.memory_info().rss
    PROCESS_MEMORY.set(rss)
    _memory_sampled_at = time.monotonic()
    return rss


RATELIMIT_EVENTS = Counter(
    "etrainer_ratelimit_events_total",
    "Rate-limit decisions other than a plain pass: limited, failed_open, failed_closed.",
    ["group", "outcome"],
)


RATELIMIT_OUTCOMES = ("limited", "failed_open", "failed_closed")


def declare_ratelimit_groups(groups: Iterable[str]) -> None:
    """Every group's events at 0 from the start, so that the first fail-closed 503 of a process
    is an increase the alert sees (as for the job counters)."""
    for group in groups:
        for outcome in RATELIMIT_OUTCOMES:
            RATELIMIT_EVENTS.labels(group=group, outcome=outcome)


def record_ratelimit_event(group: str, outcome: str) -> None:
    RATELIMIT_EVENTS.labels(group=group, outcome=outcome).inc()


# --- realtime (WebSocket notifications) ---
WS_CONNECTIONS = Gauge(
    "etrainer_ws_connections",
    "Open authenticated WebSocket connections (summed over live processes).",
    multiprocess_mode="livesum",
)
WS_MESSAGES_SENT = Counter(
    "etrainer_ws_messages_sent_total", "Notifications pushed to WebSocket connections."
)
WS_SEND_FAILURES = Counter(
    "etrainer_ws_send_failures_total",
    "Notifications that could not be published (publish) or pushed to a connection (deliver).",
    ["stage"],
)
WS_REFUSED = Counter(
    "etrainer_ws_refused_total",
    "WebSocket connections closed at connect: unauthorized, too_many, unavailable.",
    ["reason"],
)


def record_ws_connection_opened() -> None:
    WS_CONNECTIONS.inc()


def record_ws_connection_closed() -> None:
    WS_CONNECTIONS.dec()


def record_ws_message_sent() -> None:
    WS_MESSAGES_SENT.inc()


def record_ws_send_failure(stage: str, count: int = 1) -> None:
    WS_SEND_FAILURES.labels(stage=stage).inc(count)


def record_ws_refused(reason: str) -> None:
    WS_REFUSED.labels(reason=reason).inc()
