"""Run the production nginx.conf against local gunicorn instances: render, start, stop by pid.

The rendered file is nginx.conf with only the machine-specific parts replaced (SUBSTITUTED): the
worker user, pid/log/temp paths, the include directory, the listen ports, the certificate, the
media directory and the upstream servers (app and ASGI). The included files (deploy/nginx/*.conf)
are copied with the include directory replaced. Everything else, the limits, routes, headers and
error pages, is the text that ships.
"""

import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from testsupport.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "nginx.conf"
INCLUDE_DIR = ROOT / "deploy" / "nginx"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
UPSTREAM_LINE = re.compile(r"^(\s*)server app:8000 ([^;]*);$", re.MULTILINE)
WS_UPSTREAM_LINE = re.compile(r"^(\s*)server asgi:8001 ([^;]*);$", re.MULTILINE)
SUBSTITUTED = (
    "user www-data;",
    "pid /run/nginx.pid;",
    "/var/log/nginx/",
    "/var/lib/nginx/",
    "/etc/nginx/etrainer/",
    "listen 80 default_server;",
    "listen 443 ssl http2 default_server;",
    "/etc/nginx/certs/fullchain.pem",
    "/etc/nginx/certs/privkey.pem",
    "/srv/etrainer/media/",
)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


@dataclass
class NginxLayout:
    prefix: Path
    http_port: int
    https_port: int
    upstreams: list[str]
    cert: Path
    key: Path
    # The ASGI servers behind /ws/ (the `asgi` service); by default the app upstreams.
    ws_upstreams: list[str] | None = None

    @property
    def includes(self) -> Path:
        return self.prefix / "etrainer"

    @property
    def media(self) -> Path:
        """What nginx serves at /media/ (the compose `media` volume)."""
        return self.prefix / "media"


def render(text: str, layout: NginxLayout) -> str:
    replacements = dict(
        zip(
            SUBSTITUTED,
            (
                f"user {getpass.getuser()};",
                f"pid {layout.prefix / 'nginx.pid'};",
                f"{layout.prefix / 'logs'}/",
                f"{layout.prefix / 'temp'}/",
                f"{layout.includes}/",
                f"listen 127.0.0.1:{layout.http_port} default_server;",
                f"listen 127.0.0.1:{layout.https_port} ssl http2 default_server;",
                str(layout.cert),
                str(layout.key),
                f"{layout.media}/",
            ),
            strict=True,
        )
    )
    for old, new in replacements.items():
        if old not in text:
            raise ValueError(f"nginx.conf no longer contains {old!r}: update the test harness")
        text = text.replace(old, new)
    text, count = UPSTREAM_LINE.subn(
        lambda m: "\n".join(f"{m[1]}server {up} {m[2]};" for up in layout.upstreams), text
    )
    if count != 1:
        raise ValueError("nginx.conf must have exactly one `server app:8000 …;` upstream line")
    ws_upstreams = layout.ws_upstreams or layout.upstreams
    text, count = WS_UPSTREAM_LINE.subn(
        lambda m: "\n".join(f"{m[1]}server {up} {m[2]};" for up in ws_upstreams), text
    )
    if count != 1:
        raise ValueError("nginx.conf must have exactly one `server asgi:8001 …;` upstream line")
    return text


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Gunicorn:
    """One app instance: the project's gunicorn.conf.py, one worker, its own access log."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.access_log = workdir / f"gunicorn-{self.port}.access.log"
        self.output = workdir / f"gunicorn-{self.port}.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        env = {
            **self.env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_ACCESS_LOG": str(self.access_log),
        }
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py", "etrainer.wsgi:application"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for_port(self.port, self.process, self.output)
        except RuntimeError:
            self.stop()
            raise
        return self

    def requests_for(self, path: str) -> int:
        if not self.access_log.exists():
            return 0
        return sum(f" {path} HTTP/" in line for line in self.access_log.read_text().splitlines())

    def stop(self) -> None:
        stop(self.process)


def served(apps: list[Gunicorn], path: str, expected: int, timeout: float = 5.0) -> list[int]:
    """Requests for ``path`` in each access log, once they add up to ``expected`` (or time is up).

    gunicorn writes the access line after the response has gone out, so a line can trail the
    response the test already holds by a few milliseconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        counts = [app.requests_for(path) for app in apps]
        if sum(counts) >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


class Nginx:
    def __init__(self, layout: NginxLayout) -> None:
        self.layout = layout
        self.conf = layout.prefix / "nginx.conf"
        self.output = layout.prefix / "nginx.out"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        (self.layout.prefix / "logs").mkdir(exist_ok=True)
        (self.layout.prefix / "temp").mkdir(exist_ok=True)
        self.layout.media.mkdir(exist_ok=True)
        self.layout.includes.mkdir(exist_ok=True)
        for included in INCLUDE_DIR.glob("*.conf"):
            text = included.read_text().replace("/etc/nginx/etrainer/", f"{self.layout.includes}/")
            (self.layout.includes / included.name).write_text(text)
        self.conf.write_text(render(NGINX_CONF.read_text(), self.layout))
        command = [nginx_binary(), "-p", str(self.layout.prefix), "-c", str(self.conf)]
        tested = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if tested.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered nginx.conf:\n{tested.stderr}")
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port(self.layout.https_port, self.process, self.output)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop(self.process, signal.SIGQUIT)
