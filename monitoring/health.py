"""The /health report: database, cache, broker and media storage, each with status and latency.

The probes are django-health-check's (``Database``, ``Cache``) plus three of ours for what it does
not cover: a MongoDB ping (its ``Database`` check compiles ``SELECT 1``), a broker connect with a
short timeout (its Celery ``Ping`` waits for workers, not the broker), and media storage through
``media.selectors.storage_status`` (its ``Storage`` check would upload a file to Cloudinary on
every probe). Its view is not used: it answers 500 for any failure, while we answer 200
``degraded`` when only non-critical parts are down. All probes run at once in threads under one
wall-clock budget, so a hung dependency costs the budget, not its own client timeout.
"""

import asyncio
import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import TextChoices
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from kombu import Connection
from pymongo.errors import PyMongoError

from media.selectors import storage_status

CRITICAL_COMPONENTS = frozenset({"database"})


class ComponentStatus(TextChoices):
    UP = "up"
    DOWN = "down"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


class OverallStatus(TextChoices):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclasses.dataclass
class PortableDatabase(Database):
    """django-health-check's ``SELECT 1`` on SQL engines, a server ping on MongoDB."""

    def run(self):
        connection = connections[self.alias]
        if connection.vendor != "mongodb":
            return super().run()
        try:
            connection.database.command("ping")
        except (PyMongoError, DatabaseError) as error:
            raise ServiceUnavailable("MongoDB did not answer a ping") from error
        return None


@dataclasses.dataclass
class Broker(HealthCheck):
    """Open a connection to the Celery broker with a short timeout; no retries."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=0.5), repr=False
    )

    def run(self):
        seconds = self.timeout.total_seconds()
        options = {"socket_connect_timeout": seconds, "socket_timeout": seconds}
        try:
            with Connection(
                settings.CELERY_BROKER_URL, connect_timeout=seconds, transport_options=options
            ) as connection:
                connection.ensure_connection(max_retries=0, timeout=seconds)
        except Exception as error:
            raise ServiceUnavailable(f"Broker unreachable: {type(error).__name__}") from error


@dataclasses.dataclass
class MediaStorage(HealthCheck):
    """The media app's own cheap storage probe (it never raises; it says ok or why not)."""

    def run(self):
        ok, detail = storage_status()
        if not ok:
            raise ServiceUnavailable(detail or "Media storage unavailable")


@dataclasses.dataclass(frozen=True)
class ComponentResult:
    status: str
    latency_ms: float | None = None
    error: str = ""

    def as_dict(self) -> dict:
        body = {"status": self.status, "latency_ms": self.latency_ms}
        if self.error:
            body["error"] = self.error
        return body


@dataclasses.dataclass(frozen=True)
class HealthReport:
    status: str
    components: dict[str, ComponentResult]

    @property
    def http_status(self) -> int:
        return 503 if self.status == OverallStatus.DOWN else 200

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "components": {name: result.as_dict() for name, result in self.components.items()},
        }


def health_report() -> HealthReport:
    """For callers without an event loop of their own (the ``healthcheck`` command)."""
    return asyncio.run(ahealth_report())


async def ahealth_report() -> HealthReport:
    """The report on the caller's event loop: the /health view awaits it.

    The cache probe is async (``cache.aset``), and Django runs that through a thread-sensitive
    ``sync_to_async``. Under ASGI a sync view already runs inside the request's thread-sensitive
    executor, so a nested ``asyncio.run`` there cannot submit back onto it ("You cannot submit onto
    CurrentThreadExecutor from its own thread") and the cache always read as down. Awaiting on the
    server's own loop (or async_to_sync's, under WSGI) is what asgiref supports.
    """
    checks, skipped = _components()
    budget = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    components = {**skipped, **await _run_checks(checks, budget)}
    return HealthReport(status=_overall(components), components=components)


def health_report_for(name: str) -> ComponentResult:
    checks, skipped = _components()
    if name in skipped:
        return skipped[name]
    budget = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    return asyncio.run(_run_checks({name: checks[name]}, budget))[name]


def _components() -> tuple[dict[str, HealthCheck], dict[str, ComponentResult]]:
    checks: dict[str, HealthCheck] = {
        "database": PortableDatabase(),
        "cache": Cache(key_prefix="etr:health"),
    }
    skipped: dict[str, ComponentResult] = {}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        skipped["broker"] = ComponentResult(ComponentStatus.DISABLED)
    else:
        seconds = settings.HEALTH_BROKER_TIMEOUT_SECONDS
        checks["broker"] = Broker(timeout=datetime.timedelta(seconds=seconds))
    checks["storage"] = MediaStorage()
    return checks, skipped


async def _run_checks(checks: dict[str, HealthCheck], budget: float) -> dict:
    """Run every probe at once; one still running when the budget is spent counts as down."""
    executor = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="health")
    try:
        tasks = {name: asyncio.ensure_future(c.get_result(executor)) for name, c in checks.items()}
        await asyncio.wait(tasks.values(), timeout=budget)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, task in tasks.items():
        if task.done():
            results[name] = _component_result(task.result())
        else:
            task.cancel()
            results[name] = ComponentResult(
                ComponentStatus.DOWN, round(budget * 1000, 1), "timed out"
            )
    return results


def _component_result(result: HealthCheckResult) -> ComponentResult:
    latency_ms = round(result.time_taken * 1000, 1)
    if result.error is None:
        return ComponentResult(ComponentStatus.UP, latency_ms)
    return ComponentResult(ComponentStatus.DOWN, latency_ms, str(result.error))


def _overall(components: dict[str, ComponentResult]) -> str:
    down = {name for name, result in components.items() if result.status == ComponentStatus.DOWN}
    if down & CRITICAL_COMPONENTS:
        return OverallStatus.DOWN
    return OverallStatus.DEGRADED if down else OverallStatus.OK
