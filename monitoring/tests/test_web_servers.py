"""Real granian and gunicorn: /metrics agrees across workers, also after a worker is killed;
/health answers 503 when the database is down."""

import json
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from etrainer.tests.subprocess_env import manage
from testsupport.processes import GranianServer, GunicornServer, free_port

# The servers run on a SQLite database of their own (migrated_database) whatever the lane: the
# PostgreSQL and MongoDB lanes would run the same thing again.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="lane-independent: the SQLite lane runs it"
    ),
]

VIEW_COUNTER = "django_http_requests_total_by_view_transport_method"


SERVERS = {"granian": GranianServer, "gunicorn": GunicornServer}


@pytest.fixture(params=sorted(SERVERS))
def web_server(request, tmp_path, redis_server):
    """Starts the project's granian or gunicorn (each test runs on both)."""
    servers = []

    def start(*, workers: int, **env: str) -> GunicornServer:
        server = SERVERS[request.param](
            workers=workers,
            env={"REDIS_URL": redis_server.url, **env},
            log_path=tmp_path / f"{request.param}-{len(servers)}.log",
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
    web_server, tmp_path, migrated_database
):
    # given: three workers and a stale file from a previous run in the metrics directory
    database_url, staff_token = migrated_database
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"stale")
    server = web_server(
        workers=3, PROMETHEUS_MULTIPROC_DIR=str(directory), DATABASE_URL=database_url
    )
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


def test_health_answers_503_within_a_second_when_the_database_is_unreachable(web_server):
    server = web_server(
        workers=1,
        DATABASE_URL=f"postgres://etr:etr@127.0.0.1:{free_port()}/etrainer",
        GUNICORN_ACCESS_LOG="-",
        GRANIAN_ACCESS_LOG="1",
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
    duration = r"\d+\.\d{3}ms" if isinstance(server, GranianServer) else r"\d+us"
    assert re.search(duration + r" rid=probe-0001 ", line)


def test_a_killed_worker_loses_no_count_and_its_live_figures_go(
    web_server, tmp_path, migrated_database
):
    # given: three workers that all served some of 90 requests, in the metrics folder the master
    # picks itself (PROMETHEUS_MULTIPROC_DIR unset)
    database_url, staff_token = migrated_database
    server = web_server(workers=3, PROMETHEUS_MULTIPROC_DIR="", DATABASE_URL=database_url)
    warmup = view_requests(server.get("/metrics")[1].decode(), "health")
    with ThreadPoolExecutor(max_workers=9) as pool:
        statuses = list(pool.map(lambda _: server.get("/health")[0], range(90)))
    assert statuses == [200] * 90
    before = cluster_status(server, staff_token)
    workers = {worker["pid"]: worker["requests_served"] for worker in before["workers"]}
    assert len(workers) == 3
    assert sum(1 for served in workers.values() if served) >= 2

    # when: the busiest worker is SIGKILLed and the master replaces it
    victim = max(workers, key=lambda pid: workers[pid] or 0)
    os.kill(victim, signal.SIGKILL)
    after = wait_for_replacement(server, staff_token, victim)

    # then: not one request is lost from the counter, the dead worker's live gauge is gone, and the
    # cluster view lists three live workers again
    metrics = server.get("/metrics")[1].decode()
    assert view_requests(metrics, "health") - warmup == 90.0
    wait_until_gone(server, str(victim))
    assert view_requests(server.get("/metrics")[1].decode(), "health") - warmup == 90.0
    assert len(after["workers"]) == 3
    assert victim not in {worker["pid"] for worker in after["workers"]}


def wait_until_gone(server, pid: str, timeout: float = 5.0) -> None:
    """The master notices a dead worker within a second; a scrape after that has no live figures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid not in served_by_pid(server.get("/metrics")[1].decode()):
            return
        time.sleep(0.1)
    raise AssertionError(f"worker {pid}'s live gauge is still exposed")


def cluster_status(server: GunicornServer, staff_token: str) -> dict:
    status, body = server.get(
        "/api/system/cluster/status", headers={"Authorization": f"Bearer {staff_token}"}
    )
    assert status == 200, body
    return json.loads(body)


def wait_for_replacement(server, staff_token: str, victim: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            cluster = cluster_status(server, staff_token)
        except OSError:
            cluster = None
        if cluster is not None:
            pids = {worker["pid"] for worker in cluster["workers"]}
            if victim not in pids and len(pids) == 3:
                return cluster
        time.sleep(0.2)
    raise AssertionError(f"worker {victim} was not replaced: {server.log_path.read_text()[-2000:]}")


def access_log_line(server: GunicornServer, marker: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in server.log_path.read_text().splitlines() if marker in line]
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError(f"no access log line with {marker}: {server.log_path.read_text()[-1000:]}")
