"""Every response is counted with its status, those returned by middleware before the view too."""

import pytest
from django.test import Client
from django.urls import resolve
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db

BY_STATUS = "django_http_responses_total_by_status_total"
BY_STATUS_VIEW = "django_http_responses_total_by_status_view_method_total"


def responses(status: int) -> float:
    return REGISTRY.get_sample_value(BY_STATUS, {"status": str(status)}) or 0.0


def unnamed_view_responses(status: int, method: str = "GET") -> float:
    return view_responses(status, "<unnamed view>", method)


def view_responses(status: int, view: str, method: str = "GET") -> float:
    labels = {"status": str(status), "view": view, "method": method}
    return REGISTRY.get_sample_value(BY_STATUS_VIEW, labels) or 0.0


def test_the_rate_limiters_429_is_counted(settings):
    # given: the default group limited to 2 calls a minute
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "default": "2/m"}
    client = Client()
    view = resolve("/api/me").view_name
    before = responses(429), view_responses(429, view)

    # when
    statuses = [client.get("/api/me").status_code for _ in range(4)]

    # then: counted, under the view they were refused for (the limiter counts in process_view)
    assert statuses[2:] == [429, 429]
    assert responses(429) - before[0] == 2
    assert view_responses(429, view) - before[1] == 2


def test_a_fail_closed_503_is_counted(settings, redis_server):
    settings.RATELIMIT_FAIL_OPEN = False
    redis_server.stop()
    before = responses(503)

    response = Client().get("/api/me")

    assert response.status_code == 503
    assert responses(503) - before == 1


def test_the_ssl_redirect_is_counted(settings):
    settings.SECURE_SSL_REDIRECT = True
    before = responses(301)

    response = Client().get("/api/plans")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert responses(301) - before == 1


def test_a_refused_host_is_counted(settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    before = responses(400)

    response = Client(HTTP_HOST="10.1.2.3").get("/api/plans")

    assert response.status_code == 400
    assert responses(400) - before == 1
