"""A real Prometheus runs the shipped scrape config and rules against real gunicorns and a real
Celery worker: a job that fails on the worker and jobs gone missing alert, each naming its job, and
a replica whose rate limiter fails closed alerts, its 503s counted."""

import time
import urllib.parse

import pytest
from celery import Celery

from etrainer.tests.subprocess_env import manage
from jobs.registry import JOBS
from testsupport.processes import CeleryProcesses, GunicornServer, free_port
from testsupport.processes.prometheus import PrometheusServer

pytestmark = pytest.mark.slow

FAILING_JOB = "backup_critical_data"
SEED = (
    "from django.core.management import call_command; call_command('migrate', verbosity=0);"
    "from datetime import timedelta; from django.utils import timezone;"
    "from jobs.models import JobRun;"
    "JobRun.objects.create(job='expire_subscriptions', status='succeeded',"
    " finished_at=timezone.now() - timedelta(hours=3))"
)


@pytest.fixture
def stack(tmp_path, redis_server):
    """Migrated SQLite shared by a gunicorn and a Celery worker whose backups cannot be written
    (BACKUP_DIR is a file); expire_subscriptions last succeeded 3 hours ago."""
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {"DJANGO_SETTINGS_MODULE": "etrainer.settings.test", "DATABASE_URL": database}
    seeded = manage("shell", "-c", SEED, env=env)
    assert seeded.returncode == 0, seeded.stderr
    (tmp_path / "not-a-directory").write_text("")
    (tmp_path / "worker-metrics").mkdir()
    broker = f"{redis_server.url.rsplit('/', 1)[0]}/5"
    worker_port = free_port()
    worker_env = {
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database,
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": broker,
        "JOBS_MAX_RETRIES": "0",
        "BACKUP_DIR": str(tmp_path / "not-a-directory"),
        "METRICS_WORKER_BIND": f"127.0.0.1:{worker_port}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "worker-metrics"),
    }
    workers = CeleryProcesses(tmp_path, worker_env)
    app = GunicornServer(
        workers=1,
        env={"DATABASE_URL": database, "REDIS_URL": redis_server.url},
        log_path=tmp_path / "gunicorn.log",
    )
    # A second replica whose limiter cannot reach its Redis and fails closed.
    closed = GunicornServer(
        workers=1,
        env={
            "DATABASE_URL": database,
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "RATELIMIT_FAIL_OPEN": "false",
        },
        log_path=tmp_path / "gunicorn-closed.log",
    )
    prometheus = PrometheusServer(
        workdir=tmp_path,
        targets={
            "etrainer-app": [f"127.0.0.1:{app.port}", f"127.0.0.1:{closed.port}"],
            "etrainer-worker": [f"127.0.0.1:{worker_port}"],
        },
    )
    try:
        workers.start_worker("worker")
        app.start()
        closed.start()
        prometheus.start()
        yield prometheus, broker, closed
    finally:
        prometheus.stop()
        closed.stop()
        app.stop()
        workers.stop_all()


def wait_for(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def firing(prometheus: PrometheusServer) -> dict[tuple[str, str], dict]:
    alerts = prometheus.api("alerts")["alerts"]
    return {
        (alert["labels"]["alertname"], alert["labels"].get("job_name", "")): alert
        for alert in alerts
        if alert["state"] == "firing"
    }


def scraped_zero_failures(prometheus: PrometheusServer) -> bool:
    expression = (
        f'etrainer_job_runs_total{{job="etrainer-worker",job_name="{FAILING_JOB}",status="failed"}}'
    )
    return any(sample["value"][1] == "0" for sample in query(prometheus, expression))


def query(prometheus: PrometheusServer, expression: str) -> list[dict]:
    return prometheus.api(f"query?query={urllib.parse.quote(expression)}")["result"]


def test_a_failed_job_missing_jobs_and_a_failing_closed_limiter_fire_alerts(stack):
    prometheus, broker, closed = stack
    # given: the three targets scraped (the counters of the limiter at 0), the worker's run
    # counters seen at 0
    wait_for(
        lambda: [t["health"] for t in prometheus.api("targets")["activeTargets"]] == ["up"] * 3,
        timeout=20,
        what="the scrape targets up",
    )
    wait_for(lambda: scraped_zero_failures(prometheus), timeout=20, what="the worker's counters")

    # when: the job fails on the worker, queued the way beat and the API queue it; and a client
    # calls the replica whose limiter fails closed
    client = Celery(broker=broker)
    client.send_task(JOBS[FAILING_JOB].task, kwargs={"trigger": "manual"})
    client.close()
    refused = [closed.get("/api/me")[0] for _ in range(3)]

    # then
    expected = {
        ("EtrainerJobFailing", FAILING_JOB),
        ("EtrainerJobFailuresRecorded", FAILING_JOB),
        ("EtrainerHourlyJobMissed", "expire_subscriptions"),
        ("EtrainerMonthlyJobMissed", "reset_ai_tokens"),
        ("EtrainerRateLimiterFailingClosed", ""),
    }
    alerts = wait_for(
        lambda: expected <= set(firing(prometheus)), timeout=60, what=f"alerts {sorted(expected)}"
    ) and firing(prometheus)
    assert alerts[("EtrainerJobFailing", FAILING_JOB)]["annotations"]["summary"] == (
        f"Job {FAILING_JOB} failed and has not succeeded since"
    )
    assert (
        FAILING_JOB
        in alerts[("EtrainerJobFailuresRecorded", FAILING_JOB)]["annotations"]["summary"]
    )
    missed = alerts[("EtrainerMonthlyJobMissed", "reset_ai_tokens")]
    assert missed["labels"]["reason"] == "never_succeeded"
    assert "reset_ai_tokens" in missed["annotations"]["summary"]
    stale = alerts[("EtrainerHourlyJobMissed", "expire_subscriptions")]
    assert stale["labels"]["reason"] == "stale"
    assert not [key for key in alerts if key[0] == "EtrainerJobFailing" and key[1] != FAILING_JOB]
    assert refused == [503, 503, 503]
    assert alerts[("EtrainerRateLimiterFailingClosed", "")]["labels"]["group"] == "default"
    counted = query(
        prometheus,
        f'django_http_responses_total_by_status_total{{instance="127.0.0.1:{closed.port}",status="503"}}',
    )
    assert [float(sample["value"][1]) for sample in counted] == [3.0]
