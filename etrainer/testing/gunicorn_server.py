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

from etrainer.testing.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


class GunicornServer:
    """Settings come from ``env`` on top of the test settings; the inherited DJANGO_* and
    DATABASE_* variables are dropped so that a server never shares the test run's database by
    accident. Its output, the access log included when GUNICORN_ACCESS_LOG is "-", goes to
    ``log_path``."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        workers: int = 2,
        log_path: Path,
        access_log_format: str | None = None,
    ) -> None:
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.access_log_format = access_log_format
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    base_url = url

    def start(self) -> "GunicornServer":
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))
        }
        env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_ACCESS_LOG": "",
            "WEB_SERVER": "gunicorn",
            **self.env,
        }
        command = [sys.executable, "-m", "etrainer.serve"]
        if self.access_log_format:
            command += ["--access-logformat", self.access_log_format]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            try:
                self.get("/health")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer in time")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        status, _, body = http_request(self.url + path, headers=headers)
        return status, body

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)  # quick shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def http_request(url: str, *, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
