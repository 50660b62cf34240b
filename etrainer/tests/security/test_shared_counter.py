"""The limit holds across processes: two gunicorn workers count on the one Redis counter."""

import re
import socket
import time

import pytest

from etrainer.tests.security.live_server import http_status
from testsupport.plugin import session_redis_server
from testsupport.processes import GunicornServer

pytestmark = pytest.mark.slow

LIMIT = 6


@pytest.fixture
def two_workers(tmp_path):
    server = GunicornServer(
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": session_redis_server().url,
            "RATELIMIT_DEFAULT": f"{LIMIT}/m",
            "GUNICORN_ACCESS_LOG": "-",
        },
        workers=2,
        log_path=tmp_path / "gunicorn.log",
        access_log_format="pid=%(p)s %(s)s %(U)s",
    ).start()
    yield server
    server.stop()


class HeldRequest:
    """A request sent up to its last line: the sync worker that accepted it waits, busy, until
    ``finish()``; meanwhile every other request has to go to the other worker."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        time.sleep(0.5)

    def finish(self) -> int:
        self.sock.sendall(b"Connection: close\r\n\r\n")
        status_line = self.sock.makefile("rb").readline().decode()
        self.sock.close()
        return int(status_line.split()[1])


def test_the_limit_is_shared_by_both_workers(two_workers):
    # given the limit's worth of calls, split between the two workers
    held = HeldRequest(two_workers.port, "/api/me")
    statuses = [http_status(f"{two_workers.url}/api/me")[0] for _ in range(LIMIT - 1)]
    statuses.append(held.finish())

    # when one more call comes, whichever worker takes it
    status, headers = http_status(f"{two_workers.url}/api/me")

    # then it is refused, and both workers did count calls
    assert statuses == [401] * LIMIT
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    two_workers.stop()
    served_by = re.findall(r"pid=<?(\d+)>? 401 /api/me", two_workers.log_path.read_text())
    assert len(set(served_by)) == 2, two_workers.log_path.read_text()[-2000:]
