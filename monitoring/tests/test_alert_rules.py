"""The alert rules file is valid for promtool and names only figures /metrics really exports."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from etrainer import metrics
from jobs.models import JobRun

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
METRIC_NAME = re.compile(r"\b((?:etrainer|django)_[a-z_]+)")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_rules():
    result = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_compose_scrape_config_and_its_rules():
    config = RULES.with_name("prometheus.yml")

    result = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


@pytest.mark.django_db
def test_every_metric_in_the_rules_is_exported(client):
    # given: one of each of our figures, and one request through the middleware
    metrics.record_cache_lookup("sub", hits=1, misses=1)
    metrics.record_job_run("expire_subscriptions", "failed", 0.1)
    metrics.record_ratelimit_event("default", "failed_closed")
    JobRun.objects.create(
        job="expire_subscriptions", status="succeeded", finished_at=timezone.now()
    )
    metrics.sample_process_memory()
    client.get("/health")
    exported = client.get("/metrics").content.decode()

    # when
    groups = yaml.safe_load(RULES.read_text())["groups"]
    used = {
        name for g in groups for rule in g["rules"] for name in METRIC_NAME.findall(rule["expr"])
    }

    # then
    assert used
    assert [name for name in sorted(used) if f"\n{name}" not in exported] == []


@pytest.mark.django_db
def test_no_exported_label_clashes_with_prometheus_target_labels(client):
    """Prometheus sets ``job`` and ``instance`` on every scraped series and renames a clashing
    label to ``exported_job``: rules matching ``{job="…"}`` would then never match."""
    # given: a job's run counted and recorded
    metrics.record_job_run("update_streaks", "failed", 0.1)
    JobRun.objects.create(job="update_streaks", status="failed", finished_at=timezone.now())
    client.get("/health")

    # when
    families = list(text_string_to_metric_families(client.get("/metrics").content.decode()))

    # then
    clashing = {
        (family.name, label)
        for family in families
        for sample in family.samples
        for label in sample.labels
        if label in {"job", "instance"}
    }
    job_families = {f.name for f in families if f.name.startswith("etrainer_job_")}
    assert clashing == set()
    assert job_families >= {"etrainer_job_runs", "etrainer_job_last_finished_timestamp_seconds"}


@pytest.mark.django_db
def test_every_limit_groups_fail_closed_counter_is_exported_before_any_event(client, settings):
    """A counter first seen at 1 is no increase to Prometheus: the first fail-closed 503 of a
    process would not alert."""
    text = client.get("/metrics").content.decode()

    exported = {
        sample.labels["group"]
        for family in text_string_to_metric_families(text)
        if family.name == "etrainer_ratelimit_events"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["outcome"] == "failed_closed"
    }
    assert exported >= set(settings.RATELIMIT_RATES)
