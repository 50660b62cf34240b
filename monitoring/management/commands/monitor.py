"""A live terminal view for operators on a box: refreshes every few seconds until Ctrl-C.

Figures come from the same place as /metrics: the workers' multiprocess directory
(PROMETHEUS_MULTIPROC_DIR, or ``--dir``) on this box, or a running server's /metrics (``--url``).
The request rate is the change between two frames, so the first frame shows none.
"""

import time
import urllib.request
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from prometheus_client.parser import text_string_to_metric_families

from monitoring import exposition, selectors

MIB = 1024 * 1024


class Command(BaseCommand):
    help = "Live view of request rate, latency, errors, cache hit rate, jobs and worker memory."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between frames")
        parser.add_argument("--once", action="store_true", help="print one frame and exit")
        parser.add_argument("--frames", type=int, default=0, help="stop after N frames")
        parser.add_argument("--dir", default=None, help="Prometheus multiprocess directory")
        parser.add_argument("--url", default=None, help="scrape this /metrics URL instead")
        parser.add_argument("--token", default="", help="bearer token for --url")

    def handle(self, *args, **options):
        frames = 1 if options["once"] else options["frames"]
        previous, shown = None, 0
        try:
            while True:
                families = self._families(options)
                now = time.monotonic()
                summary = selectors.metrics_summary(families=families)
                rate = _rate(previous, (now, summary["requests_total"]))
                previous = (now, summary["requests_total"])
                self._draw(summary, rate, selectors.job_status(), clear=shown > 0)
                shown += 1
                if frames and shown >= frames:
                    return
                self.sleep(options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _families(self, options) -> dict:
        if not options["url"]:
            return exposition.families(options["dir"])
        if not options["url"].startswith(("http://", "https://")):
            raise CommandError("--url must be an http(s) URL")
        headers = {"Authorization": f"Bearer {options['token']}"} if options["token"] else {}
        request = urllib.request.Request(options["url"], headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            text = response.read().decode()
        return {family.name: family for family in text_string_to_metric_families(text)}

    def _draw(self, summary: dict, rate: float | None, jobs: list[dict], *, clear: bool) -> None:
        if clear and self.stdout.isatty():
            self.stdout.write("\033[H\033[2J", ending="")
        self.stdout.write("\n".join(frame_lines(summary, rate, jobs)))


def _rate(previous: tuple | None, current: tuple) -> float | None:
    if previous is None or current[0] <= previous[0] or current[1] < previous[1]:
        return None
    return (current[1] - previous[1]) / (current[0] - previous[0])


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def frame_lines(summary: dict, rate: float | None, jobs: list[dict]) -> list[str]:
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    latency, cache, memory = summary["latency_ms"], summary["cache"], summary["memory"]
    families = ", ".join(f"{n} {_percent(f['hit_rate'])}" for n, f in cache["families"].items())
    workers = ", ".join(f"{pid}: {rss / MIB:.0f} MiB" for pid, rss in memory["processes"].items())
    lines = [
        f"ETrainer monitor  {stamp}  (Ctrl-C to stop)",
        f"Requests  total {summary['requests_total']}  "
        f"rate {'-' if rate is None else f'{rate:.1f}/s'}  "
        f"errors {summary['errors_total']} ({_percent(summary['error_rate'])})",
        "Latency   " + "  ".join(f"{name} {_ms(value)}" for name, value in latency.items()),
        f"Cache     hit rate {_percent(cache['hit_rate'])}  {families}",
        f"Memory    total {memory['total_bytes'] / MIB:.0f} MiB  {workers}",
        "Jobs",
    ]
    lines += [f"  {_job_line(job)}" for job in jobs] or ["  (no runs yet)"]
    return [*lines, ""]


def _job_line(job: dict) -> str:
    if "runs" in job:
        counts = ", ".join(f"{status} {n}" for status, n in sorted(job["runs"].items()))
        return f"{job['job']:<28} {counts}"
    return f"{job['job']:<28} {job['status']:<10} last started {job['started_at']}"
