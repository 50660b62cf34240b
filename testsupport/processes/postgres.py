"""A throwaway PostgreSQL cluster on a free loopback port: initdb in a temp dir, stopped by pid.

initdb refuses to run as root, so as root the cluster runs as the ``postgres`` user. Durability is
off (fsync, full-page writes, synchronous commit): the data is thrown away with the cluster.
``python -m testsupport.processes.postgres CMD…`` runs CMD with DATABASE_URL pointing at a fresh
cluster (``make test-postgres``), then stops and deletes it.
"""

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from testsupport.processes.ports import free_port


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return Path(os.environ.get("PG_BIN") or (found[-1] if found else "/nonexistent"))


class PostgresCluster:
    """``start`` again after ``stop`` restarts the same cluster (the bench's fault phase)."""

    def __init__(self, port: int | None = None) -> None:
        self.bin = postgres_bin()
        if not (self.bin / "initdb").exists():
            raise FileNotFoundError("PostgreSQL binaries not found (set PG_BIN)")
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="etr-pg-"))
        self.run_as: list[str] = []
        if os.getuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True, check=False).returncode:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.dir, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.initialised = False
        self.created = False

    @property
    def url(self) -> str:
        return f"postgres://etrainer@127.0.0.1:{self.port}/etrainer"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> "PostgresCluster":
        if not self.initialised:
            subprocess.run(
                [*self.run_as, str(self.bin / "initdb"), "-D", str(self.dir / "data"),
                 "-U", "etrainer", "--auth=trust", "-E", "UTF8"],
                check=True, stdout=subprocess.DEVNULL, timeout=120,
            )  # fmt: skip
            self.initialised = True
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        self._ctl("-l", str(self.dir / "postgres.log"), "-w", "-o", options, "start")
        if not self.created:
            # initdb makes only `postgres`; manage.py needs the database DATABASE_URL names (the
            # test runner creates its own test_etrainer beside it).
            subprocess.run(
                [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                 "-U", "etrainer", "etrainer"],
                check=True, timeout=60,
            )  # fmt: skip
            self.created = True
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.initialised and (self.dir / "data" / "postmaster.pid").exists():
            self._ctl("-m", mode, "-w", "stop")

    def version(self) -> str:
        out = subprocess.run(
            [str(self.bin / "postgres"), "--version"], capture_output=True, check=True
        )
        return out.stdout.decode().split()[2]

    def cleanup(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def main(command: list[str]) -> int:
    if not command:
        print("usage: python -m testsupport.processes.postgres CMD [ARG…]", file=sys.stderr)
        return 2
    cluster = PostgresCluster()
    try:
        cluster.start()
        print(f"PostgreSQL {cluster.version()} on 127.0.0.1:{cluster.port}", flush=True)
        return subprocess.run(command, env={**os.environ, "DATABASE_URL": cluster.url}).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        cluster.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
