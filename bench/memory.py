"""RSS of each gunicorn worker at idle and over ~100 k requests: psutil samples every second, each
worker's request count from /metrics (``etrainer_process_requests_served{pid}``), slope by least
squares of RSS against the worker's own request count, per 10 k requests."""

import contextlib
import threading
import time

import psutil

from bench.harness import metric_values, metrics_text

SERVED = "etrainer_process_requests_served"


def rss_mb(pids: list[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            out[pid] = psutil.Process(pid).memory_info().rss / 2**20
    return out


def served(base: str) -> dict[int, float]:
    counts = {}
    for labels, value in metric_values(metrics_text(base), SERVED).items():
        pid = dict(labels).get("pid")
        if pid:
            counts[int(pid)] = value
    return counts


class Sampler(threading.Thread):
    def __init__(self, base: str, pids: list[int], limit_s: float, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.base, self.pids, self.every = base, pids, every
        self.deadline = time.monotonic() + limit_s
        self.samples: dict[int, list[tuple[float, float]]] = {pid: [] for pid in pids}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set() and time.monotonic() < self.deadline:
            try:
                counts = served(self.base)
            except OSError:
                counts = {}
            memory = rss_mb(self.pids)
            for pid in self.pids:
                if pid in counts and pid in memory:
                    self.samples[pid].append((counts[pid], memory[pid]))
            self.halt.wait(self.every)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=10)


def slope_per_10k(points: list[tuple[float, float]]) -> float:
    """MB per 10 k requests, least squares."""
    if len(points) < 3:
        return float("nan")
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if not sxx:
        return float("nan")
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx * 10_000


def summary(
    sampler: Sampler, idle_boot: dict[int, float], idle_end: dict[int, float], skip: int = 10_000
) -> dict:
    """Per worker: idle and end RSS, requests, slope over all samples and past ``skip`` requests."""
    workers = {}
    for pid, points in sampler.samples.items():
        later = [p for p in points if p[0] >= skip]
        half = [p for p in points if points and p[0] >= (points[0][0] + points[-1][0]) / 2]
        workers[pid] = {
            "idle_mb": idle_boot.get(pid, float("nan")),
            "idle_end_mb": idle_end.get(pid, float("nan")),
            "slope_last_half": slope_per_10k(half),
            "start_mb": points[0][1] if points else float("nan"),
            "end_mb": points[-1][1] if points else float("nan"),
            "requests": points[-1][0] - points[0][0] if points else 0,
            "slope_all": slope_per_10k(points),
            "slope_after_warm": slope_per_10k(later),
            "samples": len(points),
        }
    return workers
