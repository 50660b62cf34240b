"""/api/system/*: staff only, in the JSON envelope, with figures that match what the test did."""

import os

import pytest
from rest_framework.test import APIClient

from conftest import bearer_client
from etrainer import metrics
from testsupport.processes import free_port

pytestmark = pytest.mark.django_db

SYSTEM_PATHS = [
    "/api/system/metrics",
    "/api/system/cluster/status",
    "/api/system/cloudinary/usage",
]


@pytest.mark.parametrize("path", SYSTEM_PATHS)
def test_anonymous_callers_get_401(path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("path", SYSTEM_PATHS)
def test_learners_get_403(learner_client, path):
    response = learner_client.get(path)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_cache_hit_counts_match_warm_access_checks(staff_client, learner):
    # given: one cold access check fills the cache
    learner_client = bearer_client(learner)
    assert learner_client.get("/api/me/access").status_code == 200
    before = staff_client.get("/api/system/metrics").json()["cache"]["families"]

    # when: seven warm checks
    for _ in range(7):
        assert learner_client.get("/api/me/access").status_code == 200
    after = staff_client.get("/api/system/metrics").json()["cache"]["families"]

    # then
    assert after["sub"]["hits"] - before["sub"]["hits"] == 7
    assert after["sub"]["misses"] == before["sub"]["misses"]
    assert after["sub"]["hit_rate"] > before["sub"]["hit_rate"]


def test_metrics_figures_follow_what_happened(staff_client, client):
    # given
    first = staff_client.get("/api/system/metrics").json()

    # when: recorded lookups, five requests and one server error in between
    metrics.record_cache_lookup("course", hits=4, misses=1)
    for _ in range(5):
        client.get("/health")
    second = staff_client.get("/api/system/metrics").json()

    # then: the first summary's own request and the five in between were counted
    assert second["requests_total"] - first["requests_total"] == 6
    course_before = first["cache"]["families"].get("course", {"hits": 0, "misses": 0})
    assert second["cache"]["families"]["course"]["hits"] - course_before["hits"] == 4
    assert second["cache"]["families"]["course"]["misses"] - course_before["misses"] == 1
    assert second["request_rate_per_s"] is not None
    assert second["request_rate_per_s"] > 0
    assert second["latency_ms"]["p50"] is not None
    assert second["latency_ms"]["p50"] <= second["latency_ms"]["p99"]
    assert second["memory"]["processes"][str(os.getpid())] > 0


def test_metrics_endpoint_query_count_is_only_authentication(
    staff_client, django_assert_num_queries
):
    with django_assert_num_queries(1):
        assert staff_client.get("/api/system/metrics").status_code == 200


def test_cluster_status_outside_gunicorn_lists_this_process(staff_client):
    body = staff_client.get("/api/system/cluster/status").json()

    assert body["master"] is None
    assert [worker["pid"] for worker in body["workers"]] == [os.getpid()]
    assert body["workers"][0]["memory_bytes"] > 0
    assert body["workers"][0]["current"] is True
    assert body["celery"] == {"status": "disabled", "workers": []}


def test_cluster_status_reports_a_down_broker_quickly(staff_client, settings, redis_server):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    body = staff_client.get("/api/system/cluster/status").json()

    assert body["celery"]["status"] == "broker_down"


def test_storage_usage_for_staff(staff_client, settings, tmp_path):
    settings.MEDIA_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path

    response = staff_client.get("/api/system/cloudinary/usage")

    assert response.status_code == 200
    assert response.json()["backend"] == "local"


def test_storage_usage_is_a_503_envelope_when_cloudinary_is_unreachable(
    staff_client, unreachable_cloudinary
):
    response = staff_client.get("/api/system/cloudinary/usage")

    assert response.status_code == 503
    assert set(response.json()["error"]) == {"code", "message", "details"}
