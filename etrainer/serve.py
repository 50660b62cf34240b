"""Serve the WSGI app: granian by default, gunicorn as the alternative (``WEB_SERVER``).

``python -m etrainer.serve`` is the image's command. granian is configured from the same
``GRANIAN_*`` variables its own CLI reads, with this project's defaults: one worker per core, one
blocking thread each (Django views are synchronous; a second thread measured no gain on 2 cores),
crashed workers respawned, a worker recycled after ``GRANIAN_WORKERS_LIFETIME`` seconds or above
``GRANIAN_WORKERS_MAX_RSS`` MiB (granian has no request-count recycling), SIGTERM lets in-flight
requests finish for ``GRANIAN_WORKERS_KILL_TIMEOUT`` seconds.

Prometheus multiprocess mode needs two things gunicorn's hooks give (gunicorn.conf.py): the
directory emptied before any worker writes, and a dead worker's live gauges dropped. granian has no
child-exit hook, so the master runs a small reaper thread that notices a worker pid gone from its
children and calls prometheus_client's ``mark_process_dead`` for it.
"""

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable

import psutil
from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from etrainer import prometheus_multiproc
from etrainer.web_server import is_running, mark_master

WSGI_TARGET = "etrainer.wsgi:application"
SERVERS = ("granian", "gunicorn")
ACCESS_LOG_FORMAT = (
    '%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3fms '
    'rid=%(header{x-request-id})s ua="%(header{user-agent})s"'
)
REAPER_INTERVAL_SECONDS = 0.5


def env_int(name: str, default: int | None) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a whole number") from None


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SystemExit(f"{name}={value!r} is not a boolean (1/0, true/false)")


def log_level() -> LogLevels:
    value = os.environ.get("GRANIAN_LOG_LEVEL", "").strip().lower() or "info"
    try:
        return LogLevels(value)
    except ValueError:
        choices = ", ".join(level.value for level in LogLevels)
        raise SystemExit(f"GRANIAN_LOG_LEVEL={value!r}: choose one of {choices}") from None


# Requests (and so keep-alive connections) one worker takes on at once. granian's own default,
# backlog / workers (1,024 here), with one blocking thread per worker stopped answering altogether
# under 256 concurrent connections (bench/RESULTS.md); beyond the bound, connections wait in the
# listen backlog and are served in turn.
DEFAULT_BACKPRESSURE = 128


def granian_server() -> Granian:
    lifetime = env_int("GRANIAN_WORKERS_LIFETIME", 86400)
    max_rss = env_int("GRANIAN_WORKERS_MAX_RSS", 1024)
    return Granian(
        WSGI_TARGET,
        address=os.environ.get("GRANIAN_HOST", "0.0.0.0"),  # noqa: S104 (inside the container)
        port=env_int("GRANIAN_PORT", 8000),
        interface=Interfaces.WSGI,
        workers=env_int("GRANIAN_WORKERS", multiprocessing.cpu_count()),
        blocking_threads=env_int("GRANIAN_BLOCKING_THREADS", 1),
        backlog=env_int("GRANIAN_BACKLOG", 2048),
        backpressure=env_int("GRANIAN_BACKPRESSURE", DEFAULT_BACKPRESSURE),
        http1_settings=HTTP1Settings(keep_alive=env_flag("GRANIAN_HTTP1_KEEP_ALIVE", True)),
        websockets=False,
        respawn_failed_workers=True,
        workers_lifetime=lifetime or None,
        workers_max_rss=max_rss or None,
        workers_kill_timeout=env_int("GRANIAN_WORKERS_KILL_TIMEOUT", 30) or None,
        log_level=log_level(),
        log_access=env_flag("GRANIAN_ACCESS_LOG", True),
        log_access_format=os.environ.get("GRANIAN_ACCESS_LOG_FMT", ACCESS_LOG_FORMAT),
    )


class DeadWorkerReaper(threading.Thread):
    """Marks each worker that left the master's children dead for prometheus_client.

    It is started before granian forks its workers, so it must never hold a lock a child would
    inherit: ``mark_dead`` (prometheus_client's, imported by the caller) is passed in, and the
    thread imports nothing and logs nothing.
    """

    def __init__(
        self, mark_dead: Callable[[int], None], interval: float = REAPER_INTERVAL_SECONDS
    ) -> None:
        super().__init__(name="prometheus-dead-worker-reaper", daemon=True)
        self.mark_dead = mark_dead
        self.interval = interval
        self.master = psutil.Process()
        self.known: set[int] = set()

    def sweep(self) -> set[int]:
        alive = {child.pid for child in self.master.children() if is_running(child)}
        gone = self.known - alive
        for pid in gone:
            self.mark_dead(pid)
        self.known = alive
        return gone

    def run(self) -> None:
        while True:
            self.sweep()
            time.sleep(self.interval)


def serve_granian() -> None:
    prometheus_multiproc.use_private_directory_when_unset()
    mark_master("granian")
    server = granian_server()

    @server.on_startup
    def prepare_metrics() -> None:
        prometheus_multiproc.reset_directory()
        # prometheus_client picks its value store from PROMETHEUS_MULTIPROC_DIR when first
        # imported: only now, after the folder is set, and in this thread, not the reaper's.
        from prometheus_client import multiprocess  # noqa: PLC0415

        DeadWorkerReaper(multiprocess.mark_process_dead).start()

    server.serve()


def serve_gunicorn(extra_arguments: list[str]) -> None:
    """Replace this process with gunicorn (its master gets the signals); extra arguments pass on."""
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    arguments = [gunicorn, "-c", "gunicorn.conf.py", *extra_arguments, WSGI_TARGET]
    os.execv(gunicorn, arguments)  # noqa: S606


def main() -> None:
    server_name = os.environ.get("WEB_SERVER", "granian").strip().lower() or "granian"
    if server_name not in SERVERS:
        raise SystemExit(f"WEB_SERVER={server_name!r}: choose one of {', '.join(SERVERS)}")
    if server_name == "gunicorn":
        serve_gunicorn(sys.argv[1:])
    else:
        serve_granian()


if __name__ == "__main__":
    main()
