"""Faults injected while wrk keeps a steady load: Redis killed, PostgreSQL restarted, a Celery
worker SIGKILLed mid-job (the latter through testsupport/jobs_smoke.py, run as a child process).

A probe thread makes one request every PROBE_INTERVAL on its own connection and records
(time, status, latency): latency before/during/after the fault and the recovery time come from it,
the error counts from wrk (a Lua script counting statuses per second and checking the envelope).
"""

import http.client
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.harness import ROOT, BackgroundWrk, log

PROBE_INTERVAL = 0.05


class Probe(threading.Thread):
    def __init__(self, port: int, path: str, token: str, limit_s: float) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.token = port, path, token
        self.deadline = time.monotonic() + limit_s
        self.samples: list[tuple[float, int, float]] = []  # (epoch, status or 0, ms)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set() and time.monotonic() < self.deadline:
            started = time.time()
            status = 0
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", self.path, headers={"Authorization": f"Bearer {self.token}"})
                response = conn.getresponse()
                response.read()
                status = response.status
                conn.close()
            except OSError:
                status = 0
            self.samples.append((started, status, (time.time() - started) * 1000))
            self.halt.wait(PROBE_INTERVAL)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=10)


def _phase(samples: list, start: float, end: float) -> dict:
    chosen = [s for s in samples if start <= s[0] < end]
    latencies = sorted(s[2] for s in chosen)
    failed = [s for s in chosen if not 200 <= s[1] < 300]
    return {
        "probes": len(chosen),
        "failed": len(failed),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies
        else float("nan"),
        "max": latencies[-1] if latencies else float("nan"),
    }


def _wrk_errors_by_phase(seconds: dict[int, dict[int, int]], marks: list[float]) -> list[int]:
    """Non-2xx responses (the Lua per-second counts) per phase [marks[i], marks[i+1]), +-1 s."""
    out = [0] * (len(marks) - 1)
    for sec, codes in seconds.items():
        phase = max([k for k in range(len(marks) - 1) if int(marks[k]) <= sec] or [0])
        out[phase] += sum(codes.values())
    return out


def redis_kill(
    redis, base_url: str, port: int, script: Path, token: str, path: str, connections: int
) -> dict:
    """wrk for 20 s; Redis SIGKILLed at 5 s, restarted (same port, empty) at 9 s."""
    duration, kill_at, restart_at = 20, 5.0, 9.0
    probe = Probe(port, path, token, duration + 5)
    load = BackgroundWrk(base_url + path, connections, duration, script)
    probe.start()
    t0 = time.time()
    try:
        time.sleep(kill_at)
        killed = time.time()
        os.kill(redis.process.pid, signal.SIGKILL)
        redis.process.wait(timeout=10)
        redis.process = None
        log(f"redis SIGKILLed at +{killed - t0:.1f}s")
        time.sleep(max(0.0, restart_at - (time.time() - t0)))
        redis.start()
        restarted = time.time()
        log(f"redis restarted (empty) at +{restarted - t0:.1f}s")
        figures = load.result()
    finally:
        load.stop()
        probe.stop()
        redis.ensure_running()
    end = t0 + duration
    marks = [t0, killed, restarted, end]
    figures["phases"] = {
        name: _phase(probe.samples, marks[i], marks[i + 1])
        for i, name in enumerate(("before", "Redis down", "after restart"))
    }
    figures["phase_errors"] = _wrk_errors_by_phase(figures["seconds"], marks)
    figures["down_s"] = restarted - killed
    return figures


def postgres_restart(
    cluster, base_url: str, port: int, script: Path, token: str, path: str, connections: int
) -> dict:
    """wrk for 20 s; PostgreSQL stopped (fast) at 5 s, started again at 8 s."""
    duration, stop_at, start_at = 20, 5.0, 8.0
    probe = Probe(port, path, token, duration + 5)
    load = BackgroundWrk(base_url + path, connections, duration, script)
    probe.start()
    t0 = time.time()
    try:
        time.sleep(stop_at)
        stopping = time.time()
        cluster.stop("fast")
        stopped = time.time()
        log(f"postgres stopped at +{stopped - t0:.1f}s")
        time.sleep(max(0.0, start_at - (time.time() - t0)))
        cluster.start()
        started = time.time()
        log(f"postgres accepting connections again at +{started - t0:.1f}s")
        figures = load.result()
    finally:
        load.stop()
        probe.stop()
    ok_after = [s for s in probe.samples if s[0] >= started and 200 <= s[1] < 300]
    figures["recovered_after_s"] = (ok_after[0][0] - started) if ok_after else None
    last_failure = [s for s in probe.samples if s[0] >= started and not 200 <= s[1] < 300]
    figures["last_failure_after_s"] = (last_failure[-1][0] - started) if last_failure else None
    first_ok_after_stop = [s for s in probe.samples if s[0] >= stopping and 200 <= s[1] < 300]
    figures["outage_s"] = (ok_after[0][0] - stopping) if ok_after and first_ok_after_stop else None
    marks = [t0, stopping, started, t0 + duration]
    figures["phases"] = {
        name: _phase(probe.samples, marks[i], marks[i + 1])
        for i, name in enumerate(("before", "PostgreSQL down", "after restart"))
    }
    figures["probe_statuses"] = sorted({s[1] for s in probe.samples if s[0] >= stopping})
    return figures


# --- Celery ----------------------------------------------------------------------------------


class CelerySmoke:
    """testsupport/jobs_smoke.py (real redis, worker, beat; SIGKILL mid-backup) as a child."""

    def __init__(self, workdir: Path, clean_env: dict[str, str]) -> None:
        self.log_path = workdir / "jobs-smoke.log"
        env = {k: v for k, v in clean_env.items() if k not in ("DATABASE_URL",)}
        self.command = [sys.executable, "-m", "testsupport.jobs_smoke"]
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started = time.monotonic()

    def result(self, timeout: float = 150) -> dict:
        try:
            self.process.wait(timeout=max(1.0, timeout - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.stop()
        text = self.log_path.read_text(errors="replace")
        lines = [line.split("] ", 1)[-1] for line in text.splitlines() if "[jobs-smoke" in line]
        return {
            "returncode": self.process.returncode,
            "seconds": time.monotonic() - self.started,
            "checks": [line[4:] for line in lines if line.startswith("ok: ")],
            "verdict": next(
                (line for line in reversed(lines) if "PASSED" in line or "FAILED" in line),
                "no verdict",
            ),
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # its finally block stops its own children
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
