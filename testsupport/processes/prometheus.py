"""A real Prometheus (Debian's binary) on a free loopback port, stopped by pid.

It runs the shipped scrape config and rules, re-pointed for a test: every scrape job's targets
replaced by the test's servers, short scrape and evaluation intervals, each rule's ``for:`` set to
``for_override``, and no Alertmanager (the test reads alerts from Prometheus' own API).
"""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml

from testsupport.processes.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
BINARY = shutil.which("prometheus") or "/usr/bin/prometheus"


def scrape_config_for(targets: dict[str, list[str]], *, rules: str, interval: str) -> dict:
    """deploy/prometheus/prometheus.yml with only the jobs named in ``targets``, aimed at them."""
    shipped = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    jobs = []
    for job in shipped["scrape_configs"]:
        if job["job_name"] in targets:
            kept = {k: v for k, v in job.items() if not k.endswith("_sd_configs")}
            jobs.append({**kept, "static_configs": [{"targets": targets[job["job_name"]]}]})
    missing = set(targets) - {job["job_name"] for job in jobs}
    assert not missing, f"no such scrape job in prometheus.yml: {missing}"
    interval_of = {"scrape_interval": interval, "evaluation_interval": interval}
    return {
        "global": {**shipped["global"], **interval_of, "scrape_timeout": interval},
        "rule_files": [rules],
        "scrape_configs": jobs,
    }


def rules_for(for_override: str) -> dict:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = for_override
    return rules


class PrometheusServer:
    def __init__(
        self, *, workdir: Path, targets: dict[str, list[str]], interval: str = "1s"
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.targets = targets
        self.interval = interval
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, for_override: str = "0s") -> "PrometheusServer":
        rules = self.workdir / "alerts.yml"
        rules.write_text(yaml.safe_dump(rules_for(for_override)))
        config = self.workdir / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                scrape_config_for(self.targets, rules=str(rules), interval=self.interval)
            )
        )
        command = [
            BINARY,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        with (self.workdir / "prometheus.log").open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready in time")

    def api(self, path: str) -> dict:
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}", timeout=5) as response:  # noqa: S310
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def log_text(self) -> str:
        return (self.workdir / "prometheus.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
