"""/health through the real ASGI app (uvicorn), as the compose `asgi` service's probe sees it."""

import http.client
import json

import pytest

from deploy.tests.asgi_harness import Uvicorn, child_env, prepare_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def asgi(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("asgi-health")
    database = workdir / "app.sqlite3"
    prepare_database(database, [])
    server = Uvicorn(workdir, child_env(database)).launch()
    try:
        yield server.wait()
    finally:
        server.stop()


def test_health_under_asgi_reports_the_cache_up(asgi):
    conn = http.client.HTTPConnection("127.0.0.1", asgi.port, timeout=10)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()

    assert response.status == 200
    assert body["components"]["cache"] == {"status": "up", "latency_ms": pytest.approx(0, abs=1000)}
    assert body["components"]["database"]["status"] == "up"
    assert body["status"] == "ok"
