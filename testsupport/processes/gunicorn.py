"""The project's gunicorn (gunicorn.conf.py, through ``python -m etrainer.serve`` with
WEB_SERVER=gunicorn, as the image runs it) on a free loopback port, stopped by pid."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from testsupport.processes.masters import stop_master
from testsupport.processes.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


class GunicornServer:
    """Settings come from ``env`` on top of the test settings; the inherited DJANGO_* and
    DATABASE_* variables are dropped so that a server never shares the test run's database by
    accident. ``workers`` None leaves the count to gunicorn.conf.py (GUNICORN_WORKERS or the CPU
    count). The server is ready when ``ready_path`` answers (with ``ready_status``, when given:
    /health answers 503 while a component is down, which a test may want). Its output, the access
    log included when GUNICORN_ACCESS_LOG is "-", goes to ``log_path``."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        log_path: Path,
        workers: int | None = 2,
        access_log_format: str | None = None,
        ready_path: str = "/health",
        ready_status: int | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.env = env
        self.worker_count = workers
        self.log_path = log_path
        self.access_log_format = access_log_format
        self.ready_path = ready_path
        self.ready_status = ready_status
        self.process: subprocess.Popen | None = None

    name = "gunicorn"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    base_url = url

    def environment(self) -> dict[str, str]:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))
        }
        workers = {"GUNICORN_WORKERS": str(self.worker_count)} if self.worker_count else {}
        return {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "",
            "WEB_SERVER": "gunicorn",
            **workers,
            **self.env,
        }

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "etrainer.serve"]
        if self.access_log_format:
            command += ["--access-logformat", self.access_log_format]
        return command

    def start(self, timeout: float = 60.0) -> "GunicornServer":
        env = self.environment()
        if env.get("PROMETHEUS_MULTIPROC_DIR"):
            Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_serving(timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_text()[-2000:]}")
            try:
                status = self.get(self.ready_path)[0]
                if self.ready_status in (None, status):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer in time: {self.log_text()[-2000:]}")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        status, _, body = http_request(self.url + path, headers=headers)
        return status, body

    def worker_pids(self) -> list[int]:
        import psutil  # noqa: PLC0415 (stdlib only at import: with_postgres.sh runs python3)

        if self.process is None or self.process.poll() is not None:
            return []
        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, *, graceful: bool = False) -> None:
        """SIGINT (quick shutdown) by default; SIGTERM lets the workers finish their requests.

        A worker the master left behind (granian does not stop one it is still respawning) is
        killed by pid, so that no test leaves a server process running."""
        stop_signal = signal.SIGTERM if graceful else signal.SIGINT
        stop_master(self.process, self.worker_pids(), stop_signal=stop_signal, timeout=30)
        self.process = None


def http_request(url: str, *, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
