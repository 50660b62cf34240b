import threading

import pytest
from celery import current_app
from celery.exceptions import Retry
from django.core.cache import cache
from django.db import DatabaseError, connection
from django_redis import get_redis_connection
from prometheus_client import REGISTRY

from jobs.locks import lock_key
from jobs.models import JobRun, JobStatus, JobTrigger
from jobs.services import ABANDONED_ERROR
from jobs.tests import sample_tasks
from jobs.tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db


def _metric(job: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "etrainer_job_runs_total", {"job_name": job, "status": status}
    )
    return value or 0.0


def test_a_run_records_its_job_run_and_metric():
    # given
    before = _metric("test_counting", "succeeded")

    # when
    result = sample_tasks.counting_job_task.apply(kwargs={"trigger": "beat", "count": 4})

    # then
    run = JobRun.objects.get()
    assert result.result == {"job": "test_counting", "status": "succeeded", "items": 4,
                             "run": str(run.pk)}  # fmt: skip
    assert (run.job, run.trigger, run.status) == ("test_counting", "beat", "succeeded")
    assert run.items == 4
    assert run.task_id == result.id
    assert run.finished_at >= run.started_at
    assert run.duration_ms is not None
    assert run.error == ""
    assert _metric("test_counting", "succeeded") == before + 1


def test_a_plain_call_is_a_manual_run():
    sample_tasks.counting_job_task.apply()

    assert JobRun.objects.get().trigger == JobTrigger.MANUAL


def test_a_failing_body_is_recorded_and_releases_the_lock():
    with pytest.raises(RuntimeError, match="the body failed"):
        sample_tasks.failing_job_task.apply()

    run = JobRun.objects.get()
    assert run.status == JobStatus.FAILED
    assert run.items == 2
    assert "RuntimeError: the body failed" in run.error
    assert not get_redis_connection().exists(lock_key("test_failing"))


def test_a_run_closes_rows_left_running_by_a_dead_worker():
    # given: a run whose worker was killed (its lock has expired, its row says running)
    stale = JobRunFactory(job="test_counting", status=JobStatus.RUNNING, finished_at=None)

    # when
    sample_tasks.counting_job_task.apply()

    # then
    stale.refresh_from_db()
    assert stale.status == JobStatus.FAILED
    assert stale.error == ABANDONED_ERROR
    assert JobRun.objects.filter(status=JobStatus.SUCCEEDED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_one_runs_and_one_is_skipped():
    """Done-when 2: the real Redis lock between two threads; the first holds it until released."""
    sample_tasks.release_waiting_job.clear()
    sample_tasks.waiting_job_started.clear()
    results = {}

    def first_run():
        try:
            results["first"] = sample_tasks.waiting_job_task.apply(kwargs={"trigger": "beat"})
        finally:
            connection.close()

    # given: the first run is inside its body, holding the lock
    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        assert sample_tasks.waiting_job_started.wait(timeout=10)
        ttl = get_redis_connection().ttl(lock_key("test_waiting"))

        # when: a second invocation arrives while it runs
        second = sample_tasks.waiting_job_task.apply(kwargs={"trigger": "api"})
    finally:
        sample_tasks.release_waiting_job.set()
        thread.join(timeout=20)

    # then
    assert second.result == {"job": "test_waiting", "status": "skipped"}
    assert results["first"].result["status"] == "succeeded"
    statuses = dict(JobRun.objects.values_list("trigger", "status"))
    assert statuses == {"beat": "succeeded", "api": "skipped"}
    assert 30 <= ttl <= 30 + 60  # the lock lives at least the task's hard time limit


def test_with_redis_down_the_job_does_not_run_unlocked(redis_server):
    # given
    redis_server.stop()

    # when
    with pytest.raises(Exception, match="Redis unreachable"):
        sample_tasks.counting_job_task.apply()

    # then
    run = JobRun.objects.get()
    assert run.status == JobStatus.FAILED
    assert run.items == 0
    assert "Redis unreachable for the job lock" in run.error


def test_with_a_broker_a_failed_run_is_retried_with_backoff(settings):
    # given: a worker-side call (not eager) whose retry goes to the in-memory broker
    current_app.conf.task_always_eager = False
    task = sample_tasks.failing_job_task
    task.push_request(id="retry-me", retries=0, is_eager=False, called_directly=False)
    try:
        # when
        with pytest.raises(Retry) as raised:
            task.run()
    finally:
        task.pop_request()
        current_app.conf.task_always_eager = True

    # then
    assert raised.value.when is not None
    assert 0 <= raised.value.when <= settings.JOBS_RETRY_BACKOFF
    assert JobRun.objects.get(task_id="retry-me").status == JobStatus.FAILED


def test_without_redis_configured_the_lock_lives_in_the_process_cache(settings):
    """`make run` (no REDIS_URL): eager jobs in one process lock through the local cache."""
    # given
    settings.REDIS_URL = ""
    cache.add(lock_key("test_counting"), "held-by-another-run", 60)

    # when
    skipped = sample_tasks.counting_job_task.apply()
    cache.delete(lock_key("test_counting"))
    ran = sample_tasks.counting_job_task.apply()

    # then
    assert (skipped.result["status"], ran.result["status"]) == ("skipped", "succeeded")
    assert cache.get(lock_key("test_counting")) is None


def test_a_database_failure_at_the_start_does_not_run_the_body(monkeypatch):
    # given: the run record cannot be written
    def broken(**kwargs):
        raise DatabaseError("database is down")

    monkeypatch.setattr("jobs.services.job_run_start", broken)
    sample_tasks.counting_job_calls.clear()

    # when
    with pytest.raises(DatabaseError):
        sample_tasks.counting_job_task.apply(kwargs={"count": 1})

    # then: nothing ran, nothing recorded, and the lock is free for the retry
    assert sample_tasks.counting_job_calls == []
    assert not JobRun.objects.exists()
    assert not get_redis_connection().exists(lock_key("test_counting"))


def test_a_database_failure_at_the_end_does_not_fail_finished_work(monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("database hiccup")

    monkeypatch.setattr("jobs.services.job_run_finish", broken)

    result = sample_tasks.counting_job_task.apply(kwargs={"count": 2})

    assert result.result["status"] == "succeeded"
    assert JobRun.objects.get().status == JobStatus.RUNNING  # closed as abandoned by the next run
