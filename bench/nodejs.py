"""The Node/Express comparison server of `make bench-node` (bench/node/server.js), run like the
WSGI servers of bench/harness.py: on a free loopback port, ready when every cluster worker
listens, stopped by pid (its workers too), its output in a log file."""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from testsupport.processes.masters import stop_master

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_PACKAGES = ("express", "ioredis", "jsonwebtoken")
NODE_MAJOR = 20  # ioredis 6 and os.availableParallelism need it


def node_problem() -> str | None:
    """Why the Node server cannot run here (with how to fix it), or None."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "--node needs Node.js 20 and npm on PATH (e.g. apt-get install nodejs npm)"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    if int(version.lstrip("v").split(".")[0] or 0) < NODE_MAJOR:
        return f"--node needs Node.js {NODE_MAJOR} or later (found {version.strip()})"
    absent = [name for name in NODE_PACKAGES if not (NODE_DIR / "node_modules" / name).is_dir()]
    if absent:
        return (
            f"--node: {', '.join(absent)} not installed; run `cd bench/node && npm ci` "
            "(the pinned versions of package-lock.json)"
        )
    return None


class NodeServer:
    """server.js with NODE_WORKERS cluster workers (0: one per core, like granian)."""

    name = "node"

    def __init__(self, port: int, workdir: Path, env: dict[str, str]) -> None:
        self.port = port
        self.env = env
        self.log_path = workdir / "node.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "NodeServer":
        env = {**os.environ, **self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        env.setdefault("NODE_ENV", "production")
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["node", "server.js"], cwd=NODE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while "ready:" not in self.log_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_tail = self.log_text()[-2000:]
                self.stop()
                raise RuntimeError(f"the Node server did not start: {log_tail}")
            time.sleep(0.1)
        return self

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to the primary (it stops its workers); a worker left behind is killed by pid."""
        stop_master(self.process, self.workers(), stop_signal=signal.SIGTERM, timeout=10)
        self.process = None


def node_environment(django_env: dict[str, str], template: dict, workers: int) -> dict[str, str]:
    """What server.js needs of the Django side: the same Redis, signing key and key prefix."""
    return {
        "REDIS_URL": django_env["REDIS_URL"],
        "JWT_SIGNING_KEY": django_env.get("JWT_SIGNING_KEY") or django_env["DJANGO_SECRET_KEY"],
        "CACHE_KEY_PREFIX": django_env.get("CACHE_KEY_PREFIX", "etr"),
        "ACCESS_TEMPLATE": json.dumps(template),
        "NODE_WORKERS": str(workers),
    }


def response_of(url: str, token: str) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of one GET with the bearer token."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def header_bytes(headers: dict[str, str]) -> int:
    """The header block's size on the wire ("Name: value\\r\\n" each)."""
    return sum(len(name) + len(value) + 4 for name, value in headers.items())
