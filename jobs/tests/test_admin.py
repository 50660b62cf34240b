import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from jobs.models import JobRun, JobStatus
from jobs.tests.factories import JobRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_job_run_list_filters_by_job_and_status_and_shows_durations(admin_client):
    JobRunFactory(job="update_streaks", duration_ms=1500)
    JobRunFactory(job="backup_critical_data", status=JobStatus.FAILED)

    url = reverse("admin:jobs_jobrun_changelist")
    everything = admin_client.get(url)
    filtered = admin_client.get(url, {"job": "update_streaks", "status": "succeeded"})

    assert everything.status_code == 200
    assert "1.5 s" in everything.content.decode()
    assert list(filtered.context["cl"].queryset.values_list("job", flat=True)) == ["update_streaks"]
    assert reverse("admin:jobs_dashboard") in everything.content.decode()


def test_dashboard_shows_every_job(admin_client):
    call_command("setup_schedules", stdout=io.StringIO())
    JobRunFactory(job="update_streaks", duration_ms=250)

    response = admin_client.get(reverse("admin:jobs_dashboard"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "every Sunday at 02:00" in page
    assert "hourly; each user on Monday at 08:00 local" in page
    assert "send_email_notification" in page
    assert "250 ms" in page
    assert "100 %" in page


def test_dashboard_is_for_staff_only(client, learner):
    client.force_login(learner)

    response = client.get(reverse("admin:jobs_dashboard"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_run_now_action_queues_the_job_as_a_manual_run(admin_client, backup_dir):
    call_command("setup_schedules", stdout=io.StringIO())
    entry = PeriodicTask.objects.get(name="backup_critical_data")

    response = admin_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_now", "_selected_action": [entry.pk]},
        follow=True,
    )

    assert response.status_code == 200
    run = JobRun.objects.get()
    assert (run.job, run.trigger, run.status) == ("backup_critical_data", "manual", "succeeded")


def test_run_now_in_eager_mode_says_what_the_run_did_and_links_to_it(admin_client, backup_dir):
    # given: no broker (make run): the job runs inline
    call_command("setup_schedules", stdout=io.StringIO())
    entry = PeriodicTask.objects.get(name="backup_critical_data")

    # when
    response = admin_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_now", "_selected_action": [entry.pk]},
        follow=True,
    )

    # then: the outcome and the count, a link to the run, no "queued"
    run = JobRun.objects.get()
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Ran backup_critical_data now: succeeded, ")
    assert f"{run.items} item" in message
    assert reverse("admin:jobs_jobrun_change", args=[run.pk]) in message
    assert "queued" not in message.lower()
    assert "Backup_critical_data" not in response.content.decode()


def test_run_now_with_a_broker_says_queued_and_links_to_the_run(admin_client, settings):
    # given: a broker (the in-memory transport of this process): the message is only sent
    settings.CELERY_TASK_ALWAYS_EAGER = False
    call_command("setup_schedules", stdout=io.StringIO())
    entry = PeriodicTask.objects.get(name="update_streaks")

    # when
    response = admin_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_now", "_selected_action": [entry.pk]},
        follow=True,
    )

    # then
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("Queued update_streaks as task ")
    task_id = message.split("as task ", 1)[1].split(":", 1)[0]
    assert f"{reverse('admin:jobs_jobrun_changelist')}?q={task_id}" in message
    assert not JobRun.objects.exists()


def test_the_schedule_list_offers_one_run_action(admin_client):
    response = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))

    actions = dict(response.context["action_form"].fields["action"].choices)
    run_actions = [name for name in actions if "run" in name]
    assert run_actions == ["run_now"]
    assert "manual" in actions["run_now"]


def test_the_admin_index_links_both_dashboards(admin_client):
    response = admin_client.get(reverse("admin:index"))

    page = response.content.decode()
    assert f'href="{reverse("admin:jobs_dashboard")}"' in page
    assert f'href="{reverse("admin:monitoring_cache_dashboard")}"' in page
