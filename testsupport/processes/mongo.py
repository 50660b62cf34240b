"""A throwaway MongoDB-compatible server (SecantusDB) on a free loopback port, controlled by pid.

SecantusDB (PyPI ``SecantusDB``, GPL-2.0) speaks MongoDB's wire protocol and runs as a single-node
replica set, which is what transactions and django-mongodb-backend need. It pins its own pymongo and
is never imported by the project: it runs from its own virtualenv (``make mongo-venv`` builds
``.venv-mongo``), started as a child process running the small script below, and stopped by pid.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from testsupport.processes.ports import free_port

REPLICA_SET = "rs0"
DEFAULT_PYTHON = Path(__file__).resolve().parents[2] / ".venv-mongo" / "bin" / "python"

# Runs inside SecantusDB's virtualenv: start the server, then wait for SIGTERM and stop it cleanly.
# It also stops when the process that started it is gone (a test run killed before its teardown),
# so no server outlives its run.
SERVER_SCRIPT = """
import os, signal, sys, threading
from secantus import SecantusDBServer
host, port, path, replica_set = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
parent = os.getppid()
server = SecantusDBServer(host=host, port=port, storage_path=path,
                          replica_set_name=replica_set, enable_test_commands=False)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
server.start()
print("ready", flush=True)
while not stop.wait(1.0):
    if os.getppid() != parent:
        break
server.stop()
"""


class MongoServer:
    def __init__(
        self,
        port: int | None = None,
        storage_path: str | os.PathLike | None = None,
        python: str | os.PathLike | None = None,
    ) -> None:
        self.python = Path(python or os.environ.get("SECANTUS_PYTHON") or DEFAULT_PYTHON)
        self.port = port or free_port()
        self.keep_data = storage_path is not None
        self.dir = str(storage_path) if self.keep_data else tempfile.mkdtemp(prefix="etr-mongo-")
        self.process: subprocess.Popen | None = None

    def url(self, database: str = "etrainer") -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}?replicaSet={REPLICA_SET}"

    def start(self) -> "MongoServer":
        if not self.python.exists():
            raise FileNotFoundError(str(self.python))
        self.process = subprocess.Popen(
            [str(self.python), "-c", SERVER_SCRIPT, "127.0.0.1", str(self.port), self.dir,
             REPLICA_SET],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError("SecantusDB did not start (run `make mongo-venv`?)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"SecantusDB did not listen on port {self.port}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        if not self.keep_data:
            shutil.rmtree(self.dir, ignore_errors=True)


def main() -> None:
    """``python -m testsupport.processes.mongo``: a server in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Run SecantusDB as a single-node replica set.")
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument("--storage-path", required=True, help="data folder (kept)")
    args = parser.parse_args()
    Path(args.storage_path).mkdir(parents=True, exist_ok=True)
    server = MongoServer(port=args.port, storage_path=Path(args.storage_path).resolve())
    signal.signal(signal.SIGTERM, lambda *_: server.cleanup())
    server.start()
    print(f"SecantusDB listening: {server.url()}", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
