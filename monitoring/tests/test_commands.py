"""manage.py monitor: one frame with --once, a rate once two frames exist."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from jobs.models import JobRun
from monitoring import metrics
from monitoring.management.commands.monitor import Command as MonitorCommand

pytestmark = pytest.mark.django_db


def test_once_prints_one_frame_with_the_figures():
    metrics.record_cache_lookup("grants", hits=3, misses=1)
    metrics.sample_process_memory()
    JobRun.objects.create(job="expire_subscriptions", status="succeeded")
    out = io.StringIO()

    call_command("monitor", "--once", stdout=out)

    frame = out.getvalue()
    assert frame.count("ETrainer monitor") == 1
    for heading in ("Requests", "Latency", "p99", "Cache", "Memory", "Jobs"):
        assert heading in frame
    assert "grants" in frame
    assert "expire_subscriptions" in frame
    assert "succeeded" in frame


def test_second_frame_shows_a_request_rate(monkeypatch):
    client = Client()
    out = io.StringIO()
    sleeps = []

    def sleep_and_serve(command, seconds):
        sleeps.append(seconds)
        for _ in range(3):
            client.get("/health")

    monkeypatch.setattr(MonitorCommand, "sleep", sleep_and_serve)

    call_command("monitor", "--frames", "2", "--interval", "2", stdout=out)

    frames = out.getvalue().split("ETrainer monitor")[1:]
    assert sleeps == [2.0]
    assert "rate -" in frames[0]
    assert "rate -" not in frames[1]
