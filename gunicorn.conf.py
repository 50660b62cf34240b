"""gunicorn settings, all overridable from the environment (GUNICORN_*).

Sync workers, one per core: on this project's 2-core reference machine sync workers were best or
tied on every realistic endpoint with the lowest p99 (../shared/PERFORMANCE.md).

Prometheus multiprocess mode: every worker writes its figures to files in PROMETHEUS_MULTIPROC_DIR
and /metrics sums them, so it reads the same whichever worker answers. The master empties the
directory when it starts (stale files from a previous run would be added in) and marks each dead
worker so its live gauges disappear. Without the variable a private temporary directory is used.
"""

import gc
import multiprocessing
import os

from django.urls import get_resolver

from etrainer import prometheus_multiproc, web_server


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _env_int("GUNICORN_WORKERS", multiprocessing.cpu_count())
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _env_int("GUNICORN_THREADS", 1)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# A safety net against leaks, not a routine: a recycled worker re-imports Django (about a second of
# CPU on a 2-core machine) while its sibling serves alone. At 10,000 requests the hot endpoints
# recycled a worker every few seconds under load, with 0.6-0.8 s p99 stalls (make bench-access);
# make bench measures the RSS growth at 0.02 MB per 10,000 requests.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 5000)
backlog = _env_int("GUNICORN_BACKLOG", 2048)
# gunicorn 27 opens a control socket under $HOME/.gunicorn by default; containers and tests don't.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# request id (ours, echoed in the response header) and duration in microseconds
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus rid=%({x-request-id}o)s ua="%(a)s"'


prometheus_multiproc.use_private_directory_when_unset()


def on_starting(server):
    """Empty the multiprocess directory before any worker writes to it; name the master."""
    directory = prometheus_multiproc.reset_directory()
    web_server.mark_master("gunicorn")
    server.log.info("Prometheus multiprocess directory: %s", directory)


def child_exit(server, worker):
    """Let prometheus_client drop a dead worker's live gauges (multiprocess mode)."""
    # prometheus_client fixes its value class from PROMETHEUS_MULTIPROC_DIR when first imported:
    # imported at the top it would precede the default directory set above, and the forked
    # workers would inherit single-process values.
    from prometheus_client import multiprocess  # noqa: PLC0415 (must follow the env default)

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Freeze what start-up allocated (apps, models, URLconf, views) out of the cyclic GC.

    A full collection otherwise walks those ~140k long-lived objects every few thousand requests;
    frozen, it only walks what requests allocate. The URLconf is imported first: Django loads it
    lazily on the first request.
    """
    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    gc.collect()
    gc.freeze()
