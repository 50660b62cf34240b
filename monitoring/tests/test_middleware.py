"""Slow requests and slow queries are logged above the thresholds, and only then."""

import logging

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db


def slow_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "etrainer.slow"]


def test_a_request_over_the_threshold_is_logged(settings, caplog):
    settings.SLOW_REQUEST_MS = 0.001
    caplog.set_level(logging.WARNING, logger="etrainer.slow")

    # /api/plans, not /health: on a loaded machine a health probe may time out and answer 503
    status = Client().get("/api/plans").status_code

    assert any(
        line.startswith(f"slow request: GET /api/plans -> {status} in")
        for line in slow_lines(caplog)
    )


@pytest.mark.skipif(
    connection.vendor == "mongodb",
    reason="SQL-only by design: slow-query logging wraps SQL execution (MongoDB commands are "
    "timed by the pymongo command listener in /metrics)",
)
def test_a_query_over_the_threshold_is_logged(settings, caplog, staff_user):
    settings.SLOW_QUERY_MS = 0.001
    caplog.set_level(logging.WARNING, logger="etrainer.slow")
    client = Client()
    client.force_login(staff_user)

    client.get("/api/system/metrics")

    assert any(line.startswith("slow query:") for line in slow_lines(caplog))


def test_nothing_is_logged_under_the_thresholds(settings, caplog, staff_user):
    settings.SLOW_REQUEST_MS = 60_000
    settings.SLOW_QUERY_MS = 60_000
    caplog.set_level(logging.WARNING, logger="etrainer.slow")
    client = Client()
    client.force_login(staff_user)

    client.get("/api/system/metrics")

    assert slow_lines(caplog) == []
