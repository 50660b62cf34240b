"""Real gunicorn: /metrics agrees across workers; /health answers 503 when the database is down."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from etrainer.tests.subprocess_env import manage
from testsupport.processes import GunicornServer, free_port

pytestmark = pytest.mark.slow

VIEW_COUNTER = "django_http_requests_total_by_view_transport_method"


@pytest.fixture
def gunicorn(tmp_path, redis_server):
    servers = []

    def start(*, workers: int, **env: str) -> GunicornServer:
        server = GunicornServer(
            workers=workers,
            env={"REDIS_URL": redis_server.url, **env},
            log_path=tmp_path / f"gunicorn-{len(servers)}.log",
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


STAFF_TOKEN = (
    "from accounts.tests.factories import StaffFactory;"
    "from rest_framework_simplejwt.tokens import RefreshToken;"
    "print(RefreshToken.for_user(StaffFactory()).access_token)"
)


@pytest.fixture
def migrated_database(tmp_path) -> tuple[str, str]:
    """A migrated SQLite file for the server, and a staff user's access token."""
    env = {
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    assert manage("migrate", "--noinput", env=env).returncode == 0
    token = manage("shell", "-c", STAFF_TOKEN, env=env)
    assert token.returncode == 0, token.stderr
    return env["DATABASE_URL"], token.stdout.strip().splitlines()[-1]


def view_requests(metrics_text: str, view: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        if family.name == VIEW_COUNTER
        for sample in family.samples
        if sample.name == f"{VIEW_COUNTER}_total" and sample.labels["view"] == view
    )


def served_by_pid(metrics_text: str) -> dict[str, float]:
    return {
        sample.labels["pid"]: sample.value
        for family in text_string_to_metric_families(metrics_text)
        if family.name == "etrainer_process_requests_served"
        for sample in family.samples
    }


def test_every_scrape_shows_the_same_count_whichever_worker_answers(
    gunicorn, tmp_path, migrated_database
):
    # given: three workers and a stale file from a previous run in the metrics directory
    database_url, staff_token = migrated_database
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"stale")
    server = gunicorn(workers=3, PROMETHEUS_MULTIPROC_DIR=str(directory), DATABASE_URL=database_url)
    _, before = server.get("/metrics")
    warmup = view_requests(before.decode(), "health")

    # when: 30 requests to /health from 6 concurrent clients, then 5 scrapes
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: server.get("/health")[0], range(30)))
    scrapes = [server.get("/metrics")[1].decode() for _ in range(5)]

    # then
    assert statuses == [200] * 30
    assert not (directory / "counter_999999.db").exists()
    assert [view_requests(text, "health") - warmup for text in scrapes] == [30.0] * 5

    # and the cluster view names the master and its three workers, with what each served
    status, body = server.get(
        "/api/system/cluster/status", headers={"Authorization": f"Bearer {staff_token}"}
    )
    cluster = json.loads(body)
    assert status == 200
    assert cluster["master"]["pid"] == server.process.pid
    assert len(cluster["workers"]) == 3
    assert all(worker["memory_bytes"] > 0 for worker in cluster["workers"])
    served = [worker["requests_served"] or 0 for worker in cluster["workers"]]
    # readiness probes (more than one when a probe timed out on a loaded machine: `warmup` counted
    # them), the first scrape, the 30 calls, the 5 scrapes
    assert sum(served) == warmup + 1 + 30 + 5


def test_health_answers_503_within_a_second_when_the_database_is_unreachable(gunicorn):
    server = gunicorn(
        workers=1,
        DATABASE_URL=f"postgres://etr:etr@127.0.0.1:{free_port()}/etrainer",
        GUNICORN_ACCESS_LOG="-",
    )

    started = time.monotonic()
    status, body = server.get("/health", headers={"X-Request-ID": "probe-0001"})
    elapsed = time.monotonic() - started

    assert status == 503
    report = json.loads(body)
    assert report["status"] == "down"
    assert report["components"]["database"]["status"] == "down"
    assert report["components"]["cache"]["status"] == "up"
    assert elapsed < 1.0
    line = access_log_line(server, "rid=probe-0001")
    assert line.startswith('127.0.0.1 "GET /health HTTP/1.1" 503')
    assert re.search(r" \d+us rid=probe-0001 ", line)


def access_log_line(server: GunicornServer, marker: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in server.log_path.read_text().splitlines() if marker in line]
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError(f"no access log line with {marker}: {server.log_path.read_text()[-1000:]}")
