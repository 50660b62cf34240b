"""Container HEALTHCHECK: exit 0 when healthy (or only degraded), 1 when a critical part is down.

In-process by default (the same report as /health); ``--url`` asks a running server instead, which
also proves that gunicorn answers. ``--strict`` fails on ``degraded`` too.
"""

import json
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from monitoring.health import OverallStatus, health_report


class Command(BaseCommand):
    help = "Check database, cache, broker and storage; exit non-zero when unhealthy."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="ask this /health URL instead of checking in-process")
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds, with --url")
        parser.add_argument("--strict", action="store_true", help="fail on 'degraded' too")

    def handle(self, *args, url=None, timeout=3.0, strict=False, **options):
        body = self._remote(url, timeout) if url else health_report().as_dict()
        self.stdout.write(json.dumps(body, indent=2))
        unhealthy = body.get("status") == OverallStatus.DOWN or (
            strict and body.get("status") != OverallStatus.OK
        )
        if unhealthy:
            raise SystemExit(1)

    def _remote(self, url: str, timeout: float) -> dict:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must be an http(s) URL")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return _json_or_down(error.read(), f"HTTP {error.code}")
        except (OSError, ValueError) as error:
            return {"status": OverallStatus.DOWN, "error": str(error)}


def _json_or_down(body: bytes, error: str) -> dict:
    try:
        report = json.loads(body)
    except ValueError:
        report = None
    return report if isinstance(report, dict) else {"status": OverallStatus.DOWN, "error": error}
