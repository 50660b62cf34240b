import io
from datetime import timedelta

import pytest
from celery import current_app
from django.core.management import call_command
from django.utils import timezone

from jobs.models import JobRun, JobStatus, JobTrigger
from jobs.registry import JOBS, JobSpec
from jobs.tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db

STATS = "/api/system/jobs/stats"
SCHEDULE = "/api/system/jobs/schedule"


def _error(response) -> dict:
    return response.json()["error"]


@pytest.mark.parametrize(("method", "url"), [("get", STATS), ("post", SCHEDULE)])
def test_anonymous_gets_401_and_learners_403(api_client, learner_client, method, url):
    anonymous = getattr(api_client, method)(url, {}, format="json")
    learner = getattr(learner_client, method)(url, {"job": "backup_critical_data"}, format="json")

    assert anonymous.status_code == 401
    assert _error(anonymous)["code"] == "not_authenticated"
    assert learner.status_code == 403
    assert _error(learner)["code"] == "permission_denied"
    assert not JobRun.objects.exists()


def test_stats_per_job(staff_client):
    # given: two successes (1 s, 3 s), one failure, one skip in the window; an old failure outside
    call_command("setup_schedules", stdout=open_devnull())
    JobRunFactory(duration_ms=1000, started_at=timezone.now() - timedelta(days=2))
    JobRunFactory(duration_ms=3000, started_at=timezone.now() - timedelta(hours=2))
    JobRunFactory(status=JobStatus.FAILED, duration_ms=50, error="disk full")
    JobRunFactory(status=JobStatus.SKIPPED, duration_ms=0)
    JobRunFactory(status=JobStatus.FAILED, started_at=timezone.now() - timedelta(days=9))
    latest = JobRunFactory(trigger=JobTrigger.API, started_at=timezone.now() - timedelta(minutes=1))

    # when
    response = staff_client.get(STATS)

    # then
    assert response.status_code == 200
    jobs = {job["job"]: job for job in response.json()["jobs"]}
    assert set(jobs) == set(JOBS)
    backup = jobs["backup_critical_data"]
    assert backup["runs_7d"] == {"running": 0, "succeeded": 3, "failed": 1, "skipped": 1}
    assert backup["success_rate_7d"] == 0.75
    assert backup["avg_duration_ms_7d"] == 2000
    assert backup["last_run"]["id"] == str(latest.pk)
    assert backup["last_run"]["trigger"] == "api"
    assert backup["schedule"] == "0 3 * * *"
    assert backup["schedule_in_words"] == "every day at 03:00"
    assert backup["enabled"] is True
    next_run = timezone.datetime.fromisoformat(backup["next_run"].replace("Z", "+00:00"))
    assert (next_run.hour, next_run.minute) == (3, 0)
    assert timezone.now() < next_run <= timezone.now() + timedelta(days=1)
    assert jobs["update_streaks"]["last_run"] is None
    assert jobs["update_streaks"]["success_rate_7d"] is None
    assert jobs["send_email_notification"]["next_run"] is None


def test_stats_queries_do_not_grow_with_runs(staff_client, django_assert_num_queries):
    call_command("setup_schedules", stdout=open_devnull())
    JobRunFactory.create_batch(3)
    # auth user + 1 grouped count + 1 beat entries + 1 last run per registered job
    expected = 1 + 1 + 1 + len(JOBS)
    with django_assert_num_queries(expected):
        staff_client.get(STATS)

    JobRunFactory.create_batch(30, job="update_streaks")
    with django_assert_num_queries(expected):
        assert staff_client.get(STATS).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job": "no_such_job"}, "job"),
        ({}, "job"),
        ({"job": "backup_critical_data", "eta": "tomorrow-ish"}, "eta"),
        ({"job": "backup_critical_data", "eta": "2001-01-01T00:00:00Z"}, "eta"),
        ({"job": "backup_critical_data", "eta": "2999-01-01T00:00:00Z"}, "eta"),
    ],
)
def test_schedule_rejects_unknown_jobs_and_bad_times(staff_client, body, field):
    response = staff_client.post(SCHEDULE, body, format="json")

    assert response.status_code == 400
    assert _error(response)["code"] == "validation_error"
    assert field in _error(response)["details"]["fields"]
    assert not JobRun.objects.exists()


def test_schedule_runs_the_job_inline_without_a_broker(staff_client, backup_dir):
    response = staff_client.post(SCHEDULE, {"job": "backup_critical_data"}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert (body["mode"], body["state"], body["eta"]) == ("eager", "SUCCESS", None)
    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("backup_critical_data", "api", "succeeded")
    assert run.task_id == body["task_id"]
    assert backup_dir.is_dir()


def test_schedule_answers_503_for_a_job_whose_code_is_missing(staff_client, monkeypatch):
    monkeypatch.setitem(JOBS, "ghost", JobSpec("ghost", "nowhere.tasks.ghost_task", "missing"))

    response = staff_client.post(SCHEDULE, {"job": "ghost"}, format="json")

    assert response.status_code == 503
    assert _error(response)["code"] == "job_unavailable"


def test_schedule_with_a_broker_sends_the_task_by_name_with_its_eta(staff_client, settings):
    # given: a broker (the in-memory transport), not eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eta = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)

    # when
    response = staff_client.post(
        SCHEDULE, {"job": "expire_subscriptions", "eta": eta.isoformat()}, format="json"
    )

    # then
    assert response.status_code == 202
    assert response.json()["mode"] == "queued"
    message = _queued_message(response.json()["task_id"])
    assert message.headers["task"] == "subscriptions.tasks.expire_subscriptions_task"
    assert message.headers["id"] == response.json()["task_id"]
    assert timezone.datetime.fromisoformat(message.headers["eta"]) == eta
    assert message.decode()[1] == {"trigger": "api"}
    assert not JobRun.objects.exists()


def _queued_message(task_id: str):
    with current_app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        try:
            for _ in range(20):
                message = queue.get(timeout=2)
                message.ack()
                if message.headers["id"] == task_id:
                    return message
        finally:
            queue.close()
    raise AssertionError(f"task {task_id} was not queued")


def open_devnull():
    return io.StringIO()


def test_the_schema_lists_the_jobs_that_can_be_scheduled(staff_client):
    schema = staff_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    request = schema["paths"][SCHEDULE]["post"]["requestBody"]["content"]["application/json"]
    job = schema["components"]["schemas"][request["schema"]["$ref"].rsplit("/", 1)[1]]
    enum = schema["components"]["schemas"][job["properties"]["job"]["$ref"].rsplit("/", 1)[1]]

    assert enum["enum"] == sorted(JOBS)


def test_an_unknown_job_is_named_in_the_error(staff_client):
    response = staff_client.post(SCHEDULE, {"job": "no_such_job"}, format="json")

    assert response.status_code == 400
    assert _error(response)["details"]["fields"]["job"] == ["Unknown job: no_such_job."]
