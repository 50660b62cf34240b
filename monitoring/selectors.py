"""Reads for operators: request/latency/error/cache figures, cluster processes, jobs, storage usage.

Figures come from the Prometheus registry (every worker's, in multiprocess mode), so the JSON
endpoints, ``manage.py monitor`` and a Prometheus scrape agree. Counters run since the metrics
directory was last emptied (gunicorn master start); percentiles are over that span.
"""

import fnmatch
import math
import os
import re
import time
from collections import defaultdict
from typing import Any

import psutil
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django_redis import get_redis_connection
from prometheus_client.metrics_core import Metric
from redis.exceptions import RedisError

from etrainer.celery import app as celery_app
from etrainer.web_server import is_running, server_master, server_name
from jobs.models import JobRun
from media.selectors import storage_usage
from monitoring import exposition
from monitoring.health import ComponentStatus, health_report_for
from subscriptions.cache import KEY_FAMILIES

RESPONSES = "django_http_responses_total_by_status"
LATENCY = "django_http_requests_latency_seconds_by_view_method"
CACHE_REQUESTS = "etrainer_cache_requests"
PROCESS_MEMORY = "etrainer_process_resident_memory_bytes"
PROCESS_REQUESTS = "etrainer_process_requests_served"
JOB_RUNS = "etrainer_job_runs"
RATE_SAMPLE_KEY = "monitoring:rate-sample"
QUANTILES = (0.5, 0.95, 0.99)


def samples(families: dict[str, Metric], name: str, suffix: str = "") -> list:
    family = families.get(name)
    if family is None:
        return []
    return [s for s in family.samples if s.name == f"{name}{suffix}"]


def metrics_summary(*, directory: str | None = None, families: dict | None = None) -> dict:
    families = families if families is not None else exposition.families(directory)
    requests, errors = _request_totals(families)
    return {
        "requests_total": requests,
        "errors_total": errors,
        "error_rate": round(errors / requests, 4) if requests else 0.0,
        "latency_ms": latency_percentiles(families),
        "cache": cache_hit_rates(families),
        "memory": process_memory(families),
    }


def metrics_summary_with_rate() -> dict:
    """The summary plus the request rate since the previous call (any worker's, via the cache)."""
    summary = metrics_summary()
    now = time.time()
    previous = cache.get(RATE_SAMPLE_KEY)
    cache.set(RATE_SAMPLE_KEY, (now, summary["requests_total"]), 3600)
    rate = None
    if previous and now > previous[0] and summary["requests_total"] >= previous[1]:
        rate = round((summary["requests_total"] - previous[1]) / (now - previous[0]), 2)
    return {"request_rate_per_s": rate, **summary}


def _request_totals(families: dict) -> tuple[int, int]:
    requests = errors = 0
    for sample in samples(families, RESPONSES, "_total"):
        requests += int(sample.value)
        if sample.labels.get("status", "").startswith("5"):
            errors += int(sample.value)
    return requests, errors


def latency_percentiles(families: dict) -> dict[str, float | None]:
    buckets: dict[float, float] = defaultdict(float)
    for sample in samples(families, LATENCY, "_bucket"):
        buckets[float(sample.labels["le"])] += sample.value
    ordered = sorted(buckets.items())
    return {f"p{round(q * 100)}": _quantile(q, ordered) for q in QUANTILES}


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return round(lower * 1000, 2)
            fraction = (rank - below) / (count - below) if count > below else 1.0
            return round((lower + (upper - lower) * fraction) * 1000, 2)
        lower, below = upper, count
    return None


def cache_hit_rates(families: dict) -> dict:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"hits": 0, "misses": 0})
    for sample in samples(families, CACHE_REQUESTS, "_total"):
        key = "hits" if sample.labels["result"] == "hit" else "misses"
        counts[sample.labels["family"]][key] += int(sample.value)
    per_family = {name: _with_rate(c["hits"], c["misses"]) for name, c in sorted(counts.items())}
    hits = sum(c["hits"] for c in counts.values())
    misses = sum(c["misses"] for c in counts.values())
    return {**_with_rate(hits, misses), "families": per_family}


def _with_rate(hits: int, misses: int) -> dict:
    total = hits + misses
    return {"hits": hits, "misses": misses, "hit_rate": round(hits / total, 4) if total else None}


def per_process(families: dict, name: str) -> dict[int, float]:
    """One value per live process: the pid label in multiprocess mode, else this process."""
    return {
        int(sample.labels.get("pid", os.getpid())): sample.value
        for sample in samples(families, name)
    }


def process_memory(families: dict) -> dict:
    by_pid = {pid: rss for pid, rss in per_process(families, PROCESS_MEMORY).items() if rss > 0}
    return {
        "total_bytes": int(sum(by_pid.values())),
        "processes": {str(pid): int(rss) for pid, rss in sorted(by_pid.items())},
    }


def cluster_status() -> dict:
    families = exposition.families()
    served = per_process(families, PROCESS_REQUESTS)
    me = psutil.Process()
    master = server_master(me)
    workers = [child for child in master.children() if is_running(child)] if master else [me]
    return {
        "server": server_name() if master else None,
        "master": _process_info(master, served) if master else None,
        "workers": [_process_info(worker, served) for worker in workers],
        "celery": celery_workers(),
    }


def _process_info(process: psutil.Process, served: dict[int, float]) -> dict:
    try:
        memory = process.memory_info().rss
    except psutil.Error:
        memory = None
    return {
        "pid": process.pid,
        "memory_bytes": memory,
        "requests_served": int(served[process.pid]) if process.pid in served else None,
        "current": process.pid == os.getpid(),
    }


def celery_workers() -> dict:
    """Workers answering a ping within a short timeout; the broker is probed first so that a
    down broker costs its connect timeout, not Celery's publish retries."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "disabled", "workers": []}
    broker = health_report_for("broker")
    if broker.status != ComponentStatus.UP:
        return {"status": "broker_down", "workers": [], "error": broker.error}
    replies = celery_app.control.ping(timeout=settings.CELERY_PING_TIMEOUT_SECONDS) or []
    names = sorted(name for reply in replies for name in reply)
    return {"status": "up" if names else "no_workers", "workers": names}


def job_status(limit: int = 200) -> list[dict]:
    """The latest run of each job from JobRun; the run counters when the database is down."""
    latest: dict[str, dict] = {}
    try:
        runs = list(
            JobRun.objects.order_by("-started_at").only("job", "status", "started_at")[:limit]
        )
    except DatabaseError:
        return _job_status_from_counters()
    for run in runs:
        latest.setdefault(
            run.job,
            {"job": run.job, "status": run.status, "started_at": run.started_at.isoformat()},
        )
    return sorted(latest.values(), key=lambda row: row["job"])


def _job_status_from_counters() -> list[dict]:
    runs: dict[str, dict[str, int]] = defaultdict(dict)
    for sample in samples(exposition.families(), JOB_RUNS, "_total"):
        runs[sample.labels["job_name"]][sample.labels["status"]] = int(sample.value)
    return [{"job": job, "runs": counts} for job, counts in sorted(runs.items())]


def cloudinary_usage() -> dict:
    return storage_usage()


def cache_dashboard() -> dict:
    """Redis INFO figures, our per-family hit rates and key counts (one bounded SCAN pass)."""
    key_families = _key_families()
    rates = cache_hit_rates(exposition.families())
    client = _redis_client()
    # No scan, no key counts: the local-memory cache of `make run` (no REDIS_URL), or Redis down.
    redis_info: dict[str, Any] = {"available": False, "configured": client is not None}
    keys = None
    if client is not None:
        try:
            redis_info = _redis_info(client)
            keys = _key_counts(client, key_families, settings.CACHE_DASHBOARD_SCAN_LIMIT)
        except RedisError as error:
            redis_info = {**redis_info, "error": f"{type(error).__name__}: {error}"}
    families = [
        {
            "name": name,
            "pattern": pattern,
            "keys": keys["counts"].get(name) if keys else None,
            **rates["families"].get(name, _with_rate(0, 0)),
        }
        for name, pattern in key_families.items()
    ]
    return {"redis": redis_info, "families": families, "overall": rates, "scan": keys}


def _key_families() -> dict[str, str]:
    return dict(KEY_FAMILIES)


def _redis_client():
    try:
        return get_redis_connection("default")
    except NotImplementedError:
        return None


def _redis_info(client) -> dict:
    info = client.info()
    hits, misses = info.get("keyspace_hits", 0), info.get("keyspace_misses", 0)
    return {
        "available": True,
        "version": info.get("redis_version"),
        "used_memory_human": info.get("used_memory_human"),
        "maxmemory_human": info.get("maxmemory_human"),
        "connected_clients": info.get("connected_clients"),
        "evicted_keys": info.get("evicted_keys"),
        **_with_rate(hits, misses),
    }


def _key_counts(client, key_families: dict[str, str], limit: int) -> dict:
    """Count keys per family in one SCAN pass over at most ``limit`` keys (never KEYS *)."""
    patterns = {
        name: re.compile(fnmatch.translate(re.sub(r"\{[^}]*\}", "*", pattern)))
        for name, pattern in key_families.items()
    }
    counts = dict.fromkeys(patterns, 0)
    cursor, scanned = 0, 0
    while True:
        cursor, keys = client.scan(cursor=cursor, count=1000)
        scanned += len(keys)
        for key in keys:
            name = key.decode(errors="replace")
            family = next((f for f, rx in patterns.items() if rx.match(name)), None)
            if family is not None:
                counts[family] += 1
        if cursor == 0 or scanned >= limit:
            return {"counts": counts, "scanned": scanned, "complete": cursor == 0}
