"""manage.py monitor: one frame with --once, a rate once two frames exist."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from etrainer import metrics
from jobs.models import JobRun
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


def test_without_a_source_the_frame_says_its_figures_are_this_process_only(monkeypatch):
    # given: no --url, no --dir and no PROMETHEUS_MULTIPROC_DIR (a shell next to `make run`)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("monitor", "--once", stdout=out, stderr=err)

    # then: the operator learns why everything is zero and what to pass instead
    frame = out.getvalue()
    assert "Source    this process only" in frame
    assert "--url http://127.0.0.1:8000/metrics" in err.getvalue()


def test_the_frame_names_the_multiprocess_directory_it_reads(tmp_path):
    out, err = io.StringIO(), io.StringIO()

    call_command("monitor", "--once", "--dir", str(tmp_path), stdout=out, stderr=err)

    assert f"Source    multiprocess directory {tmp_path}" in out.getvalue()
    assert err.getvalue() == ""


def test_once_does_not_promise_a_ctrl_c_but_a_live_view_does(monkeypatch):
    monkeypatch.setattr(MonitorCommand, "sleep", lambda command, seconds: None)
    once, live = io.StringIO(), io.StringIO()

    call_command("monitor", "--once", stdout=once, stderr=io.StringIO())
    call_command("monitor", "--frames", "2", stdout=live, stderr=io.StringIO())

    assert "Ctrl-C" not in once.getvalue()
    assert live.getvalue().count("(Ctrl-C to stop)") == 2
