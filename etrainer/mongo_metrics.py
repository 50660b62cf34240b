"""pymongo pool and command events as Prometheus figures (MongoDB engine only).

The listeners are registered with pymongo (``pymongo.monitoring.register``) when the monitoring app
is ready, before the backend opens its client, so every MongoClient of the process reports here.
pymongo calls them synchronously on the driver's threads: each handler only touches a metric.
Gauges use the ``livesum`` mode so that /metrics adds up the gunicorn workers' pools.
"""

from prometheus_client import Counter, Gauge, Histogram
from pymongo import monitoring

POOL_CONNECTIONS = Gauge(
    "etrainer_mongodb_pool_connections",
    "Open connections in pymongo's pool, by server.",
    ["address"],
    multiprocess_mode="livesum",
)
POOL_CHECKED_OUT = Gauge(
    "etrainer_mongodb_pool_checked_out",
    "Connections currently checked out of the pool, by server.",
    ["address"],
    multiprocess_mode="livesum",
)
POOL_CHECKOUTS = Counter(
    "etrainer_mongodb_pool_checkouts_total",
    "Connection checkouts by server and result (ok, or the failure reason).",
    ["address", "result"],
)
POOL_WAIT_SECONDS = Histogram(
    "etrainer_mongodb_pool_wait_seconds",
    "Time spent waiting to check a connection out of the pool.",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
)
POOL_CLEARED = Counter(
    "etrainer_mongodb_pool_cleared_total",
    "Times a server's pool was cleared (server marked unknown, failover).",
    ["address"],
)
COMMAND_SECONDS = Histogram(
    "etrainer_mongodb_command_seconds",
    "MongoDB command latency by command name and outcome.",
    ["command", "outcome"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
COMMAND_FAILURES = Counter(
    "etrainer_mongodb_command_failures_total",
    "Failed MongoDB commands by command name.",
    ["command"],
)


def _address(address) -> str:
    host, port = address
    return f"{host}:{port}"


class PoolMetricsListener(monitoring.ConnectionPoolListener):
    """Pool size, checkouts and checkout wait time per server."""

    def pool_created(self, event):
        pass

    def pool_ready(self, event):
        pass

    def pool_cleared(self, event):
        POOL_CLEARED.labels(address=_address(event.address)).inc()

    def pool_closed(self, event):
        pass

    def connection_created(self, event):
        POOL_CONNECTIONS.labels(address=_address(event.address)).inc()

    def connection_ready(self, event):
        pass

    def connection_closed(self, event):
        POOL_CONNECTIONS.labels(address=_address(event.address)).dec()

    def connection_check_out_started(self, event):
        pass

    def connection_check_out_failed(self, event):
        POOL_CHECKOUTS.labels(address=_address(event.address), result=event.reason).inc()
        if event.duration is not None:
            POOL_WAIT_SECONDS.observe(event.duration)

    def connection_checked_out(self, event):
        address = _address(event.address)
        POOL_CHECKOUTS.labels(address=address, result="ok").inc()
        POOL_CHECKED_OUT.labels(address=address).inc()
        if event.duration is not None:
            POOL_WAIT_SECONDS.observe(event.duration)

    def connection_checked_in(self, event):
        POOL_CHECKED_OUT.labels(address=_address(event.address)).dec()


class CommandMetricsListener(monitoring.CommandListener):
    """Latency of every command, and failures, by command name (find, insert, aggregate…)."""

    def started(self, event):
        pass

    def succeeded(self, event):
        COMMAND_SECONDS.labels(command=event.command_name, outcome="ok").observe(
            event.duration_micros / 1_000_000
        )

    def failed(self, event):
        COMMAND_SECONDS.labels(command=event.command_name, outcome="failed").observe(
            event.duration_micros / 1_000_000
        )
        COMMAND_FAILURES.labels(command=event.command_name).inc()


def mongo_event_listeners() -> list:
    """The listeners for ``MongoClient(event_listeners=...)``."""
    return [PoolMetricsListener(), CommandMetricsListener()]


_registered: list = []


def register_mongo_listeners() -> None:
    """Register the listeners with pymongo once per process (every later MongoClient gets them)."""
    if _registered:
        return
    _registered.extend(mongo_event_listeners())
    for listener in _registered:
        monitoring.register(listener)
