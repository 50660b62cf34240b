"""The alert rules file is valid for promtool and names only figures /metrics really exports."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from jobs.models import JobRun
from monitoring import metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
METRIC_NAME = re.compile(r"\b((?:etrainer|django)_[a-z_]+)")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_rules():
    result = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_every_metric_in_the_rules_is_exported(client):
    # given: one of each of our figures, and one request through the middleware
    metrics.record_cache_lookup("sub", hits=1, misses=1)
    metrics.record_job_run("expire_subscriptions", "failed", 0.1)
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
