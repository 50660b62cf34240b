"""/metrics: Prometheus text for allowed networks or the bearer token, a JSON 403 otherwise."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from etrainer import metrics
from etrainer.tests.subprocess_env import manage
from jobs.models import JobRun

pytestmark = pytest.mark.django_db


def test_loopback_may_scrape_and_sees_our_figures(client):
    metrics.record_cache_lookup("sub", hits=2, misses=1)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'etrainer_cache_requests_total{family="sub",result="hit"}' in text
    assert "django_http_requests_total_by_view_transport_method_total" in text
    assert "etrainer_process_resident_memory_bytes" in text


def test_a_client_outside_the_allowed_networks_gets_a_json_403(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_allowed_network_other_than_loopback(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_bearer_token_opens_it_from_anywhere(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_BEARER_TOKEN = "scrape-secret"

    ok = client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer scrape-secret")
    wrong = client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION="Bearer nope")
    loopback_without_token = client.get("/metrics")

    assert ok.status_code == 200
    assert wrong.status_code == 403
    assert loopback_without_token.status_code == 403


def test_jobs_last_finished_runs_come_from_the_database(client):
    # given: runs of one job, the latest of each status
    now = timezone.now().replace(microsecond=0)
    JobRun.objects.create(
        job="update_streaks", status="succeeded", finished_at=now - timedelta(days=2)
    )
    JobRun.objects.create(job="update_streaks", status="succeeded", finished_at=now)
    JobRun.objects.create(
        job="update_streaks", status="failed", finished_at=now - timedelta(days=1)
    )
    JobRun.objects.create(job="update_streaks", status="running")

    # when
    text = client.get("/metrics").content.decode()

    # then
    last = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "etrainer_job_last_finished_timestamp_seconds"
        for sample in family.samples
        if sample.labels["job_name"] == "update_streaks"
    }
    assert last == {
        "succeeded": now.timestamp(),
        "failed": (now - timedelta(days=1)).timestamp(),
    }


CACHE_PROBE = (
    "from django.conf import settings; from django.core.cache import cache;"
    "cache.set('probe', 41); print(settings.CACHES['default']['BACKEND']);"
    "print(cache.get('probe'), cache.get('absent', 'default'))"
)


def test_with_redis_configured_the_cache_is_django_prometheus_wrapped_django_redis(redis_server):
    env = {"DJANGO_SETTINGS_MODULE": "etrainer.settings.local", "REDIS_URL": redis_server.url}

    result = manage("shell", "-c", CACHE_PROBE, env=env)

    assert result.returncode == 0, result.stderr
    backend, values = result.stdout.strip().splitlines()[-2:]
    assert backend == "django_prometheus.cache.backends.redis.RedisCache"
    assert values == "41 default"
