"""Where Prometheus figures are read from: this process, or every worker's files (multiprocess).

In multiprocess mode (PROMETHEUS_MULTIPROC_DIR set, as under gunicorn) each worker writes its own
files and the default registry holds only this worker's figures, so every reader goes through a
MultiProcessCollector over the directory; then /metrics reads the same whichever worker answers.
"""

import hmac
import ipaddress
import os

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Max
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from jobs.models import JobRun


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def registry(directory: str | None = None) -> CollectorRegistry:
    directory = directory if directory is not None else multiprocess_dir()
    if not directory:
        return REGISTRY
    collecting = CollectorRegistry()
    multiprocess.MultiProcessCollector(collecting, path=directory)
    return collecting


def exposition(directory: str | None = None) -> bytes:
    """The /metrics body: the workers' figures plus the jobs' last runs read from the database."""
    return generate_latest(registry(directory)) + generate_latest(_job_registry())


class JobRunCollector:
    """Each job's last finished run per status, from JobRun (one grouped query per scrape).

    Jobs run in Celery workers, whose process figures a web replica's /metrics cannot see; the
    JobRun table can be read from anywhere, so missed-schedule and failure alerts rest on it.
    """

    def collect(self):
        family = GaugeMetricFamily(
            "etrainer_job_last_finished_timestamp_seconds",
            "Unix time of each job's last finished run, by final status (from JobRun).",
            labels=["job_name", "status"],
        )
        for row in _last_finished_runs():
            family.add_metric([row["job"], row["status"]], row["last"].timestamp())
        yield family


def _last_finished_runs() -> list[dict]:
    try:
        rows = JobRun.objects.filter(finished_at__isnull=False).values("job", "status")
        return list(rows.annotate(last=Max("finished_at")).order_by())
    except DatabaseError:
        return []


def _job_registry() -> CollectorRegistry:
    jobs = CollectorRegistry(auto_describe=False)
    jobs.register(JobRunCollector())
    return jobs


def families(directory: str | None = None) -> dict[str, Metric]:
    return {family.name: family for family in registry(directory).collect()}


def _allowed_networks() -> list:
    cidrs = settings.METRICS_ALLOWED_NETWORKS
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def metrics_access_allowed(remote_addr: str, authorization: str) -> bool:
    """A client on an allowed network, or one presenting the bearer token, may scrape."""
    token = settings.METRICS_BEARER_TOKEN
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())
