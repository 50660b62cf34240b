"""The compose monitoring profile: Prometheus scrapes every replica by name, and the app lets it."""

import re

import pytest
import yaml

from deploy.tests.nginx_harness import ROOT
from etrainer.tests.subprocess_env import manage, production_env

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PROMETHEUS = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
DEFAULT_VALUE = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def scrape_job(name: str) -> dict:
    return next(job for job in PROMETHEUS["scrape_configs"] if job["job_name"] == name)


def static_targets(name: str) -> list[str]:
    return [target for group in scrape_job(name)["static_configs"] for target in group["targets"]]


def compose_environment(service: str) -> dict[str, str]:
    """The service's own environment, ``${VAR:-default}`` read at its default."""
    env = SERVICES[service]["environment"]
    return {key: DEFAULT_VALUE.sub(r"\1", str(value)) for key, value in env.items()}


def test_prometheus_and_alertmanager_run_under_the_monitoring_profile():
    prometheus, alertmanager = SERVICES["prometheus"], SERVICES["alertmanager"]

    assert prometheus["profiles"] == ["monitoring"]
    assert alertmanager["profiles"] == ["monitoring"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert PROMETHEUS["rule_files"] == ["alerts.yml"]
    assert PROMETHEUS["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]
    mounted = alertmanager["volumes"][0].split(":")[0]
    assert (ROOT / mounted).is_file()
    assert all(
        port.startswith("127.0.0.1:") for s in (prometheus, alertmanager) for port in s["ports"]
    )


@pytest.mark.parametrize(
    ("service", "job", "port"), [("app", "etrainer-app", 8000), ("asgi", "etrainer-asgi", 8001)]
)
def test_every_replica_is_scraped_by_its_container_name(service, job, port):
    replicas = DEFAULT_VALUE.sub(r"\1", str(SERVICES[service]["deploy"]["replicas"]))
    expected = [f"etrainer-{service}-{n}:{port}" for n in range(1, int(replicas) + 1)]

    assert COMPOSE["name"] == "etrainer"
    assert static_targets(job) == expected
    assert compose_environment(service)["DJANGO_INTERNAL_HOSTS"].split(",") == [
        target.split(":")[0] for target in expected
    ]


def test_workers_serve_their_metrics_where_prometheus_looks():
    worker = compose_environment("worker")
    discovery = scrape_job("etrainer-worker")["dns_sd_configs"][0]

    assert discovery["names"] == ["worker"]
    assert worker["METRICS_WORKER_BIND"] == f"0.0.0.0:{discovery['port']}"
    assert worker["PROMETHEUS_MULTIPROC_DIR"] in SERVICES["worker"]["tmpfs"]


SCRAPE = (
    "import os; from django.test import Client;"
    "r = Client().get('/metrics', HTTP_HOST=os.environ['SCRAPE_HOST'], REMOTE_ADDR='172.28.0.9');"
    "print(r.status_code, r.content[:60])"
)


def test_a_production_replica_answers_prometheus_scraping_it_by_its_name(tmp_path):
    """Production settings with the env file and what compose sets: the replica's name is an
    accepted host and the compose network may read /metrics (a host refused is HTML 400)."""
    # given
    env = production_env(tmp_path)
    env |= compose_environment("app")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env.pop("PROMETHEUS_MULTIPROC_DIR")
    env["SCRAPE_HOST"] = static_targets("etrainer-app")[1]

    # when
    result = manage("shell", "-c", SCRAPE, env=env)

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("200 b'# HELP"), result.stdout
