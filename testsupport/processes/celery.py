"""Celery workers and beat (``celery -A etrainer``), each with its own log, stopped by pid."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class CeleryProcesses:
    """The Celery processes started with ``env`` (on top of this process's environment)."""

    def __init__(
        self, workdir: Path, env: dict[str, str], log: Callable[[str], None] = print
    ) -> None:
        self.workdir = workdir
        self.env = {**os.environ, **env}
        self.log = log
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *celery_args: str) -> subprocess.Popen:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "etrainer", *celery_args],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started[name] = process
        self.log(f"started {name} (pid {process.pid})")
        return process

    def start_worker(self, name: str) -> subprocess.Popen:
        process = self.start(
            name, "worker", "--loglevel=INFO", "--pool=prefork", "--concurrency=1",
            f"--hostname={name}@smoke", "--without-gossip", "--without-mingle",
            "--without-heartbeat",
        )  # fmt: skip
        wait_for(self._worker_consuming, 30, f"{name} to consume from the broker")
        return process

    def _worker_consuming(self) -> bool:
        """Ready when a client of the broker is blocked in BRPOP on the queue."""
        import redis  # noqa: PLC0415 (stdlib only at import: with_postgres.sh runs python3)

        client = redis.Redis.from_url(self.env["CELERY_BROKER_URL"])
        try:
            return any(c.get("cmd") == "brpop" for c in client.client_list())
        finally:
            client.close()

    def start_beat(self) -> subprocess.Popen:
        return self.start(
            "beat", "beat", "--loglevel=INFO", "--max-interval=1",
            f"--schedule={self.workdir / 'beat-schedule'}",
            f"--pidfile={self.workdir / 'beat.pid'}",
        )  # fmt: skip

    def log_text(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def kill_hard(self, name: str) -> list[int]:
        """SIGKILL the worker's main process and its pool children, by pid."""
        import psutil  # noqa: PLC0415 (stdlib only at import: with_postgres.sh runs python3)

        process = self.started[name]
        children = [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
        for pid in [process.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        for pid in children:
            wait_for(lambda pid=pid: not psutil.pid_exists(pid), 10, f"child {pid} to exit")
        return [process.pid, *children]

    def stop(self, name: str) -> None:
        process = self.started.get(name)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.log(f"stopped {name} (pid {process.pid})")

    def stop_all(self) -> None:
        for name in list(self.started):
            self.stop(name)
