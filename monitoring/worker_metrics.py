"""A Celery worker's figures over HTTP, for Prometheus to scrape (METRICS_WORKER_BIND).

Jobs run in the worker, not in the web replicas, so their run counters and durations exist only
there. The worker's main process serves them with prometheus_client's own HTTP server; with the
prefork pool the jobs run in child processes, which write their figures to PROMETHEUS_MULTIPROC_DIR
(one empty directory per worker container: compose mounts a tmpfs) and the server adds them up.
The server has no access control: bind it to the internal network only. The JobRun-based job
figures stay on the web replicas' /metrics (they read the database).
"""

import logging

from celery import signals
from django.conf import settings
from prometheus_client import multiprocess, start_http_server

from monitoring import exposition

logger = logging.getLogger("etrainer.monitoring")


def parse_bind(bind: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) or a bare port, which listens on every address."""
    host, _, port = bind.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


@signals.worker_init.connect(dispatch_uid="etrainer-worker-metrics")
def serve_worker_metrics(**kwargs) -> None:
    bind = settings.METRICS_WORKER_BIND
    if not bind:
        return
    address, port = parse_bind(bind)
    directory = exposition.multiprocess_dir()
    if not directory:
        logger.warning(
            "METRICS_WORKER_BIND without PROMETHEUS_MULTIPROC_DIR: figures recorded in prefork "
            "pool processes are not served"
        )
    start_http_server(port, addr=address, registry=exposition.registry(directory))
    logger.info("Worker metrics on http://%s:%s/metrics", address, port)


@signals.worker_process_shutdown.connect(dispatch_uid="etrainer-worker-metrics-exit")
def forget_pool_process(pid=None, **kwargs) -> None:
    """Drop an exited pool process's live gauges (its counters stay in the sums)."""
    if pid and exposition.multiprocess_dir():
        multiprocess.mark_process_dead(pid)
