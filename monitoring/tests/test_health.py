"""/health and manage.py healthcheck against the real Redis and database."""

import json
import time

import pytest

from etrainer.tests.subprocess_env import manage
from testsupport.processes import free_port

pytestmark = pytest.mark.django_db


def timed_get(client, path):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_all_up_answers_200_ok_with_each_component(client, redis_server):
    response, elapsed = timed_get(client, "/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "up"
    assert body["components"]["cache"]["status"] == "up"
    assert body["components"]["broker"] == {"status": "disabled", "latency_ms": None}
    assert body["components"]["database"]["latency_ms"] >= 0
    assert "no-cache" in response["Cache-Control"]
    assert elapsed < 1.0


def test_redis_stopped_answers_200_degraded(client, redis_server):
    redis_server.stop()

    response, elapsed = timed_get(client, "/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["cache"]["status"] == "down"
    assert body["components"]["database"]["status"] == "up"
    assert elapsed < 1.0


def test_hung_redis_answers_degraded_within_a_second(client, redis_server):
    redis_server.pause()

    response, elapsed = timed_get(client, "/health")

    assert response.status_code == 200
    assert response.json()["components"]["cache"]["status"] == "down"
    assert elapsed < 1.0


def test_unreachable_broker_is_degraded_not_down(client, redis_server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/1"

    response, elapsed = timed_get(client, "/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["broker"]["status"] == "down"
    assert elapsed < 1.0


def test_reachable_broker_is_up(client, redis_server, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_server.url

    response = client.get("/health")

    assert response.json()["components"]["broker"]["status"] == "up"


def test_healthcheck_command_exits_zero_when_healthy():
    result = manage("healthcheck", env={"DJANGO_SETTINGS_MODULE": "etrainer.settings.test"})

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["components"]["database"]["status"] == "up"


def test_healthcheck_command_exits_non_zero_when_the_database_is_unreachable():
    closed_port = free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
        "DATABASE_URL": f"postgres://etr:etr@127.0.0.1:{closed_port}/etrainer",
    }

    result = manage("healthcheck", env=env)

    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["status"] == "down"
    assert body["components"]["database"]["status"] == "down"
    assert body["components"]["database"]["latency_ms"] < 1000


def test_local_media_storage_is_up(client, settings, tmp_path):
    settings.MEDIA_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path

    body = client.get("/health").json()

    assert body["components"]["storage"]["status"] == "up"


def test_unreachable_cloudinary_is_degraded_within_a_second(client, unreachable_cloudinary):
    response, elapsed = timed_get(client, "/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["storage"]["status"] == "down"
    assert elapsed < 1.0


def test_healthcheck_pings_mongodb_under_the_mongodb_engine(redis_server):
    env = {
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
        "DATABASE_URL": f"mongodb://127.0.0.1:{free_port()}/etrainer",
        "MONGODB_SERVER_SELECTION_TIMEOUT_MS": "200",
        "REDIS_URL": redis_server.url,
    }

    result = manage("healthcheck", "--skip-checks", env=env)

    assert result.returncode == 1
    database = json.loads(result.stdout)["components"]["database"]
    assert database["status"] == "down"
    assert database["error"] == "Unavailable: MongoDB did not answer a ping"
