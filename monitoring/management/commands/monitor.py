"""A live terminal view for operators on a box: refreshes every few seconds until Ctrl-C.

Figures come from the same place as /metrics: the workers' multiprocess directory
(PROMETHEUS_MULTIPROC_DIR, or ``--dir``) on this box, or a running server's /metrics (``--url``).
With neither, the only figures are this command's own process (zeros for requests): the frame says
so and stderr names the ``--url`` to pass. The request rate is the change between two frames, so
the first frame shows none.
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
        source = _source(options)
        if source == THIS_PROCESS:
            self.stderr.write(NO_SOURCE_HINT)
        previous, shown = None, 0
        try:
            while True:
                families = self._families(options)
                now = time.monotonic()
                summary = selectors.metrics_summary(families=families)
                rate = _rate(previous, (now, summary["requests_total"]))
                previous = (now, summary["requests_total"])
                lines = frame_lines(summary, rate, selectors.job_status(), source=source)
                if frames != 1:
                    lines[0] += "  (Ctrl-C to stop)"
                self._draw(lines, clear=shown > 0)
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

    def _draw(self, lines: list[str], *, clear: bool) -> None:
        if clear and self.stdout.isatty():
            self.stdout.write("\033[H\033[2J", ending="")
        self.stdout.write("\n".join(lines))


THIS_PROCESS = "this process only"
NO_SOURCE_HINT = (
    "No --url, --dir or PROMETHEUS_MULTIPROC_DIR: the figures are this command's own process, so "
    "requests and latency stay at zero. Read a running server with "
    "--url http://127.0.0.1:8000/metrics, or gunicorn's workers with "
    "--dir $PROMETHEUS_MULTIPROC_DIR."
)


def _source(options) -> str:
    if options["url"]:
        return options["url"]
    directory = options["dir"] if options["dir"] is not None else exposition.multiprocess_dir()
    return f"multiprocess directory {directory}" if directory else THIS_PROCESS


def _rate(previous: tuple | None, current: tuple) -> float | None:
    if previous is None or current[0] <= previous[0] or current[1] < previous[1]:
        return None
    return (current[1] - previous[1]) / (current[0] - previous[0])


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def frame_lines(summary: dict, rate: float | None, jobs: list[dict], *, source: str) -> list[str]:
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    latency, cache, memory = summary["latency_ms"], summary["cache"], summary["memory"]
    families = ", ".join(f"{n} {_percent(f['hit_rate'])}" for n, f in cache["families"].items())
    workers = ", ".join(f"{pid}: {rss / MIB:.0f} MiB" for pid, rss in memory["processes"].items())
    lines = [
        f"ETrainer monitor  {stamp}",
        f"Source    {source}",
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
