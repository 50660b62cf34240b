"""Shared pieces of `make bench`: throwaway PostgreSQL, gunicorn, seeding, wrk and Lua scripts.

Everything listens on 127.0.0.1 only and is stopped by pid by its owner (bench/run_all.py).
"""

import json
import os
import re
import resource
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from testsupport.processes import GranianServer, GunicornServer, PostgresCluster

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["PostgresCluster"]

BARE_PATH = "/bench/bare"
ACCESS_PATH = "/api/me/access"
CONSUME_PATH = "/api/ai-tokens/consume"
EXAMS_PATH = "/api/exams/history"
PLANS_PATH = "/api/plans"
COURSES_PATH = "/api/courses"
HUGE_QUOTA = 2_000_000_000  # PositiveIntegerField: fits PostgreSQL's integer


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment, seeding ---------------------------------------------------------------------


def somaxconn() -> int:
    try:
        return int(Path("/proc/sys/net/core/somaxconn").read_text())
    except (OSError, ValueError):
        return 4096


LISTEN_BACKLOG = somaxconn()
GRANIAN_BACKPRESSURE = "128"


def raise_nofile() -> int:
    """RLIMIT_NOFILE up to its hard limit in this process (wrk and the servers inherit it): one
    descriptor per connection at -c10000."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def bench_environment(workdir: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The web servers' environment of the throughput runs: limits on but raised out of the way."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": "bench-" + os.urandom(24).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_ACCESS_MINUTES": "120",
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_LOG_LEVEL": "warning",
        "GUNICORN_MAX_REQUESTS": "0",  # no recycling: the memory slope is real, no restart noise
        "GRANIAN_WORKERS_LIFETIME": "0",  # the same for granian (lifetime and RSS recycling off)
        "GRANIAN_WORKERS_MAX_RSS": "0",
        "GRANIAN_ACCESS_LOG": "0",
        "GRANIAN_LOG_LEVEL": "warning",
        # 10,000 connections at once: the listen queue at the kernel's cap (net.core.somaxconn)
        "GRANIAN_BACKLOG": str(LISTEN_BACKLOG),
        "GUNICORN_BACKLOG": str(LISTEN_BACKLOG),
        # etrainer/serve.py's default, stated so that a run says what it measured: granian's own
        # (backlog / workers) with one blocking thread stopped answering at 256 connections.
        "GRANIAN_BACKPRESSURE": GRANIAN_BACKPRESSURE,
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),  # production settings require one
        "RATELIMIT_ENABLE": "true",
        "RATELIMIT_DEFAULT": "100000000/m",
        "RATELIMIT_AI": "100000000/m",
    }


def seed(users: int, exams_per_user: int) -> dict:
    """Migrate and create the learners in this process; return their tokens and the course ids."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from learning.models import ExamHistory
    from subscriptions.models import AiTokenAccount, Course, CourseGrant, Plan, Subscription
    from subscriptions.selectors import current_period_start

    call_command("migrate", verbosity=0)
    plan = Plan.objects.create(code="bench", name="Bench", tier=1, ai_tokens_per_period=HUGE_QUOTA)
    by_plan = Course.objects.create(code="bench-plan", title="By plan", min_tier=1)
    by_grant = Course.objects.create(code="bench-grant", title="By grant", min_tier=2)
    people = [User(email=f"bench{n}@bench.invalid") for n in range(users)]
    for person in people:
        person.set_unusable_password()
    people = User.objects.bulk_create(people, batch_size=2000)
    now = timezone.now()
    Subscription.objects.bulk_create(
        (
            Subscription(
                user=p, plan=plan, ends_at=now + timezone.timedelta(days=30), live_key=str(p.pk)
            )
            for p in people
        ),
        batch_size=2000,
    )
    period = current_period_start()
    AiTokenAccount.objects.bulk_create(
        (AiTokenAccount(user=p, period_start=period, quota=HUGE_QUOTA, used=0) for p in people),
        batch_size=2000,
    )
    CourseGrant.objects.bulk_create(
        (CourseGrant(user=p, course=by_grant) for p in people), batch_size=2000
    )
    ExamHistory.objects.bulk_create(
        (
            ExamHistory(
                user=p,
                exam_code=f"exam-{k}",
                score=50 + k,
                max_score=100,
                duration_s=600,
                taken_at=now - timezone.timedelta(days=k + 1),
            )
            for p in people
            for k in range(exams_per_user)
        ),
        batch_size=5000,
    )
    tokens = [str(AccessToken.for_user(p)) for p in people]
    connections.close_all()
    return {"tokens": tokens, "course_plan": str(by_plan.pk), "course_grant": str(by_grant.pk)}


# --- web servers: gunicorn, granian ----------------------------------------------------------


class BenchServer:
    """What the bench needs of a web server, on top of testsupport's launchers: workers from the
    server's own defaults (one per core), ready when the bare view answers."""

    def __init__(self, port: int, workdir: Path, env: dict[str, str], name: str) -> None:
        super().__init__(
            env=env,
            log_path=workdir / f"{self.name}-{name}.log",
            workers=None,
            ready_path=BARE_PATH,
            ready_status=200,
            port=port,
        )

    @property
    def base(self) -> str:
        return self.url

    def start(self):
        super().start()
        time.sleep(1.0)  # let every worker finish booting
        return self

    def workers(self) -> list[int]:
        return self.worker_pids()

    def worker_class(self) -> str:
        return self.environment().get("GUNICORN_WORKER_CLASS", "sync")

    def stop(self) -> None:
        super().stop(graceful=True)


class Gunicorn(BenchServer, GunicornServer):
    """The project's gunicorn.conf.py."""


class Granian(BenchServer, GranianServer):
    """The project's granian launcher (etrainer/serve.py)."""

    def worker_class(self) -> str:
        return "granian wsgi"


WEB_SERVERS = {"granian": Granian, "gunicorn": Gunicorn}


def http_get(url: str, token: str | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 (loopback only)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def metrics_text(base: str) -> str:
    return http_get(base + "/metrics")[1].decode()


def metric_values(text: str, name: str) -> dict[tuple, float]:
    """Samples of one metric: {(sorted label pairs): value}."""
    values: dict[tuple, float] = {}
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{(.*?)\}})?\s+(\S+)$")
    for line in text.splitlines():
        match = pattern.match(line)
        if match:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', match.group(1) or "")))
            values[labels] = float(match.group(2))
    return values


# --- wrk --------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency_ms(output: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else float("nan")


WRK_THREADS = 2


def wrk_command(
    url: str, connections: int, duration: int, script: Path | None, timeout: int | None = None
) -> list[str]:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if timeout:
        command.append(f"--timeout={timeout}s")
    if script:
        command += ["-s", str(script)]
    return [*command, url]


def parse_wrk(output: str) -> dict:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    statuses = {int(c): int(n) for c, n in re.findall(r"^STATUS (\d+) (\d+)$", output, re.M)}
    seconds: dict[int, dict[int, int]] = {}
    for sec, code, n in re.findall(r"^SEC (\d+) (\d+) (\d+)$", output, re.MULTILINE):
        seconds.setdefault(int(sec), {})[int(code)] = int(n)
    envelopes = re.search(r"^ENVELOPE (\d+) (\d+)$", output, re.MULTILINE)
    requests = int(total.group(1)) if total else 0
    socket_errors = sum(int(x) for x in sock.groups()) if sock else 0
    non2xx = int(bad.group(1)) if bad else 0
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": requests,
        "p50": _latency_ms(output, "50"),
        "p99": _latency_ms(output, "99"),
        "non2xx": non2xx,
        "socket_errors": socket_errors,
        "socket_detail": sock.group(0) if sock else "",
        "error_rate": (non2xx + socket_errors) / requests if requests else float("nan"),
        "statuses": statuses,
        "seconds": seconds,
        "envelopes": (int(envelopes.group(1)), int(envelopes.group(2))) if envelopes else None,
    }


def wrk(
    url: str,
    connections: int,
    duration: int,
    script: Path | None = None,
    timeout: int | None = None,
) -> dict:
    command = wrk_command(url, connections, duration, script, timeout)
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    return parse_wrk(result.stdout + result.stderr)


class BackgroundWrk:
    """wrk with a fixed duration, running while the caller injects a fault."""

    def __init__(self, url: str, connections: int, duration: int, script: Path) -> None:
        self.command = wrk_command(url, connections, duration, script)
        self.duration = duration
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.started = time.time()

    def result(self) -> dict:
        try:
            output, _ = self.process.communicate(timeout=self.duration + 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return parse_wrk(output)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# --- Lua scripts ------------------------------------------------------------------------------

_COUNTING = """
local counts, seconds, envelope_ok, envelope_bad = {}, {}, 0, 0
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status >= 300 then
    local key = os.time() .. " " .. status
    seconds[key] = (seconds[key] or 0) + 1
    if body and string.sub(body, 1, 9) == '{"error":' then
      envelope_ok = envelope_ok + 1
    else
      envelope_bad = envelope_bad + 1
    end
  end
end
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
done = function(summary, latency, requests)
  local total, sec, ok, bad = {}, {}, 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
    for k, v in pairs(t:get("seconds")) do sec[k] = (sec[k] or 0) + v end
    ok = ok + t:get("envelope_ok")
    bad = bad + t:get("envelope_bad")
  end
  for k, v in pairs(total) do io.write(string.format("STATUS %d %d\\n", k, v)) end
  for k, v in pairs(sec) do io.write(string.format("SEC %s %d\\n", k, v)) end
  io.write(string.format("ENVELOPE %d %d\\n", ok, bad))
end
"""


def _lua_tokens(tokens: list[str]) -> str:
    return "local tokens = {\n" + ",\n".join(f'  "{t}"' for t in tokens) + "\n}\n"


def write_rotating(
    path: Path,
    tokens: list[str],
    url_path: str,
    *,
    method: str = "GET",
    body: str | None = None,
    count_statuses: bool = False,
) -> Path:
    """Each request takes the next token of the list (every user equally often)."""
    body_lua = json.dumps(body) if body is not None else "nil"
    headers = '{["Authorization"] = "Bearer " .. tokens[i]'
    if body is not None:
        headers += ', ["Content-Type"] = "application/json"'
    headers += "}"
    text = _lua_tokens(tokens) + (
        "local i = 0\n"
        "init = function(args)\n"
        "  math.randomseed(os.time() + (tid or 0) * 7919)\n"
        "  i = math.random(#tokens)\n"
        "end\n"
        "request = function()\n"
        "  i = i % #tokens + 1\n"
        f'  return wrk.format("{method}", "{url_path}", {headers}, {body_lua})\n'
        "end\n"
    )
    if count_statuses:
        text += _counting()
    path.write_text(text)
    return path


def _counting() -> str:
    # thread:get reads globals of the thread's Lua state: drop the 'local' on the shared tables.
    return _COUNTING.replace(
        "local counts, seconds, envelope_ok, envelope_bad = {}, {}, 0, 0",
        "counts, seconds, envelope_ok, envelope_bad = {}, {}, 0, 0",
    )


def write_zipf_mixed(
    path: Path, tokens: list[str], s: float, mix: list[tuple[float, str, str, str | None]]
) -> Path:
    """Users drawn by a Zipf(s) law over the token list; endpoints by weight.

    ``mix``: (weight, method, path, body or None). Rank r (1 = hottest) has probability
    proportional to 1/r^s; ranks map to users through the list's order (shuffled by the caller).
    """
    total = sum(weight for weight, *_ in mix)
    cumulative, acc = [], 0.0
    for weight, method, url_path, body in mix:
        acc += weight / total
        cumulative.append((acc, method, url_path, body))
    branches = []
    for n, (upper, method, url_path, body) in enumerate(cumulative):
        headers = '{["Authorization"] = "Bearer " .. token'
        if body is not None:
            headers += ', ["Content-Type"] = "application/json"'
        headers += "}"
        body_lua = json.dumps(body) if body is not None else "nil"
        keyword = "if" if n == 0 else "elseif"
        bound = "true" if n == len(cumulative) - 1 else f"e <= {upper:.6f}"
        branches.append(
            f"  {keyword} {bound} then\n"
            f'    return wrk.format("{method}", "{url_path}", {headers}, {body_lua})\n'
        )
    text = _lua_tokens(tokens) + (
        "local cdf = {}\n"
        "init = function(args)\n"
        "  math.randomseed(os.time() + (tid or 0) * 7919)\n"
        "  local acc = 0\n"
        f"  for r = 1, #tokens do acc = acc + 1 / (r ^ {s}); cdf[r] = acc end\n"
        "  for r = 1, #tokens do cdf[r] = cdf[r] / acc end\n"
        "end\n"
        "local function pick()\n"
        "  local u, lo, hi = math.random(), 1, #cdf\n"
        "  while lo < hi do\n"
        "    local mid = math.floor((lo + hi) / 2)\n"
        "    if cdf[mid] < u then lo = mid + 1 else hi = mid end\n"
        "  end\n"
        "  return tokens[lo]\n"
        "end\n"
        "request = function()\n"
        "  local token = pick()\n"
        "  local e = math.random()\n" + "".join(branches) + "  end\nend\n"
    )
    path.write_text(text)
    return path
