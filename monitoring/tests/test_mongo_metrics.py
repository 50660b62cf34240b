"""The pymongo listeners turn the driver's events into Prometheus figures (synthetic events)."""

from datetime import timedelta

import pytest
from django.db import connection
from prometheus_client import REGISTRY
from pymongo import MongoClient, monitoring

from etrainer.mongo_metrics import CommandMetricsListener, PoolMetricsListener
from etrainer.settings.database import database_config

ADDRESS = ("mongo1", 27017)
LABEL = "mongo1:27017"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_pool_size_and_checked_out_connections_follow_the_pool_events():
    listener = PoolMetricsListener()
    before_open = sample("etrainer_mongodb_pool_connections", address=LABEL)
    before_out = sample("etrainer_mongodb_pool_checked_out", address=LABEL)

    # when
    listener.connection_created(monitoring.ConnectionCreatedEvent(ADDRESS, 1))
    listener.connection_created(monitoring.ConnectionCreatedEvent(ADDRESS, 2))
    listener.connection_checked_out(monitoring.ConnectionCheckedOutEvent(ADDRESS, 1, 0.002))
    listener.connection_checked_out(monitoring.ConnectionCheckedOutEvent(ADDRESS, 2, 0.003))
    listener.connection_checked_in(monitoring.ConnectionCheckedInEvent(ADDRESS, 2))
    listener.connection_closed(monitoring.ConnectionClosedEvent(ADDRESS, 2, "idle"))

    # then
    assert sample("etrainer_mongodb_pool_connections", address=LABEL) == before_open + 1
    assert sample("etrainer_mongodb_pool_checked_out", address=LABEL) == before_out + 1


def test_checkouts_are_counted_with_their_wait_time_and_failure_reason():
    listener = PoolMetricsListener()
    ok_before = sample("etrainer_mongodb_pool_checkouts_total", address=LABEL, result="ok")
    timeout_before = sample(
        "etrainer_mongodb_pool_checkouts_total", address=LABEL, result="timeout"
    )
    waits_before = sample("etrainer_mongodb_pool_wait_seconds_count")
    wait_sum_before = sample("etrainer_mongodb_pool_wait_seconds_sum")

    listener.connection_checked_out(monitoring.ConnectionCheckedOutEvent(ADDRESS, 7, 0.25))
    listener.connection_check_out_failed(
        monitoring.ConnectionCheckOutFailedEvent(
            ADDRESS, monitoring.ConnectionCheckOutFailedReason.TIMEOUT, 1.5
        )
    )

    assert sample("etrainer_mongodb_pool_checkouts_total", address=LABEL, result="ok") == (
        ok_before + 1
    )
    assert sample("etrainer_mongodb_pool_checkouts_total", address=LABEL, result="timeout") == (
        timeout_before + 1
    )
    assert sample("etrainer_mongodb_pool_wait_seconds_count") == waits_before + 2
    assert sample("etrainer_mongodb_pool_wait_seconds_sum") - wait_sum_before == (
        pytest.approx(1.75)
    )


def test_pool_clears_are_counted_per_server():
    before = sample("etrainer_mongodb_pool_cleared_total", address=LABEL)

    PoolMetricsListener().pool_cleared(monitoring.PoolClearedEvent(ADDRESS))

    assert sample("etrainer_mongodb_pool_cleared_total", address=LABEL) == before + 1


def test_command_latency_is_observed_per_command_name():
    listener = CommandMetricsListener()
    count_before = sample("etrainer_mongodb_command_seconds_count", command="find", outcome="ok")
    sum_before = sample("etrainer_mongodb_command_seconds_sum", command="find", outcome="ok")

    listener.succeeded(
        monitoring.CommandSucceededEvent(
            timedelta(milliseconds=12), {"ok": 1}, "find", 1, ADDRESS, 1, database_name="etrainer"
        )
    )

    assert (
        sample("etrainer_mongodb_command_seconds_count", command="find", outcome="ok")
        == count_before + 1
    )
    assert sample(
        "etrainer_mongodb_command_seconds_sum", command="find", outcome="ok"
    ) - sum_before == pytest.approx(0.012)


def test_failed_commands_are_counted_per_command_name():
    listener = CommandMetricsListener()
    failures_before = sample("etrainer_mongodb_command_failures_total", command="insert")
    other_before = sample("etrainer_mongodb_command_failures_total", command="find")

    listener.failed(
        monitoring.CommandFailedEvent(
            timedelta(milliseconds=3),
            {"errmsg": "E11000 duplicate key", "code": 11000},
            "insert",
            2,
            ADDRESS,
            2,
            database_name="etrainer",
        )
    )

    assert sample("etrainer_mongodb_command_failures_total", command="insert") == (
        failures_before + 1
    )
    assert sample("etrainer_mongodb_command_failures_total", command="find") == other_before
    assert sample("etrainer_mongodb_command_seconds_count", command="insert", outcome="failed") >= 1


def test_the_mongodb_settings_build_a_client_that_reports_to_these_listeners():
    default = database_config("mongodb://127.0.0.1:1/etrainer").databases["default"]

    # The monitoring app registered the listeners with pymongo when Django started.
    client = MongoClient(host=default["HOST"], connect=False, **default["OPTIONS"])
    try:
        kinds = {type(listener) for listener in client.options.event_listeners}
    finally:
        client.close()

    assert kinds == {PoolMetricsListener, CommandMetricsListener}


@pytest.mark.skipif(connection.vendor != "mongodb", reason="MongoDB lane only: the live client")
@pytest.mark.django_db
def test_the_backend_client_reports_to_these_listeners():
    connection.ensure_connection()

    kinds = {type(listener) for listener in connection.connection.options.event_listeners}

    assert {PoolMetricsListener, CommandMetricsListener} <= kinds
