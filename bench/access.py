"""Warm /api/me/access against a bare Django JSON view on the same gunicorn (`make bench-access`).

What it does, all on 127.0.0.1 and cleaned up afterwards (processes stopped by pid):
1. starts its own redis-server on a free port and a temporary SQLite database;
2. migrates it and seeds a few hundred learners, each with a subscription, a token account and a
   course grant, and signs one JWT per learner;
3. starts gunicorn with the project's gunicorn.conf.py (--no-control-socket), production settings
   (DEBUG off) and a bench-only URLconf (bench/urls.py) that adds the bare view and two floors:
   the bare view after one cache get (django+1get), and a DRF view after one (drf+1get);
4. warms the access cache with one request per learner;
5. drives the four endpoints with wrk and prints requests/s, p50 and p99 per measurement, the
   medians, and each endpoint's ratio to bare. The machine's speed drifts by tens of percent
   between windows of a few seconds, so each round measures bare before and after every other
   endpoint (bare, access, bare, django+1get, bare, drf+1get, bare; the order of the three
   rotates), and an endpoint's ratio in a round is its requests/s over the mean of the two bare
   measurements around it; the headline is the median of those ratios over the rounds. Every
   target gets the same Lua script that rotates the learners' Authorization headers (the other
   views ignore them): wrk shares the two cores with gunicorn, so its own cost per request must
   be the same on both sides of a ratio.
   The shared rate limiter is off unless --ratelimit (then: huge limits, so that its cost is
   measured but nothing is refused). The access-cache TTLs are an hour unless
   --design-ttls, so that the checks stay warm for the whole run; each measurement prints Redis'
   key misses (0 for warm checks; the floors' probe key misses by design).

Not a pass/fail test: absolute figures drift with the machine; compare ratios of one run.
"""

import argparse
import os
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import redis
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import WEB_SERVERS  # noqa: E402
from testsupport.processes import RedisServer, free_port  # noqa: E402

ACCESS_PATH = "/api/me/access"
BARE_PATH = "/bench/bare"
DRF_CACHE_PATH = "/bench/drf-cache"
DJANGO_CACHE_PATH = "/bench/django-cache"
TARGETS = {
    "bare": BARE_PATH,
    "access": ACCESS_PATH,
    "django+1get": DJANGO_CACHE_PATH,
    "drf+1get": DRF_CACHE_PATH,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: per core)")
    parser.add_argument(
        "--server", choices=sorted(WEB_SERVERS), default="granian", help="the WSGI server measured"
    )
    parser.add_argument("--keep-log", action="store_true", help="print gunicorn's log tail")
    parser.add_argument("--ratelimit", action="store_true", help="keep the shared rate limiter on")
    parser.add_argument(
        "--design-ttls", action="store_true", help="keep the access-cache TTLs of the settings"
    )
    return parser.parse_args()


def bench_environment(workdir: Path, redis_url: str, args: argparse.Namespace) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "REDIS_URL": redis_url,
        "GUNICORN_ACCESS_LOG": "",
        "GUNICORN_LOG_LEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "RATELIMIT_ENABLE": "true" if args.ratelimit else "false",
        "RATELIMIT_DEFAULT": "1000000/m",
    }
    if not args.design_ttls:
        # Warm means warm: at the design TTLs every learner's AI-balance entry (60 s) expires in
        # the same second mid-run, and one round pays 300 cold reads. `make bench` measures the
        # hit rate at the design TTLs (its Zipf phase).
        for family in ("SUB", "AI", "GRANTS", "COURSE", "USER"):
            env[f"ACCESS_CACHE_{family}_TTL"] = "3600"
    if args.workers:
        env["GUNICORN_WORKERS"] = env["GRANIAN_WORKERS"] = str(args.workers)
    return env


def seed(users: int) -> list[str]:
    """Migrate and create the learners in this process; return one access token per learner."""
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from subscriptions.models import AiTokenAccount, Course, CourseGrant, Plan, Subscription
    from subscriptions.selectors import current_period_start

    call_command("migrate", verbosity=0)
    plan = Plan.objects.create(code="basic", name="Basic", tier=1, ai_tokens_per_period=1000)
    course = Course.objects.create(code="bench-course", title="Bench", min_tier=2)
    people = [User(email=f"bench{n}@example.com") for n in range(users)]
    for person in people:
        person.set_unusable_password()
    people = User.objects.bulk_create(people)
    now = timezone.now()
    Subscription.objects.bulk_create(
        Subscription(
            user=p, plan=plan, ends_at=now + timezone.timedelta(days=30), live_key=str(p.pk)
        )
        for p in people
    )
    period = current_period_start()
    AiTokenAccount.objects.bulk_create(
        AiTokenAccount(user=p, period_start=period, quota=1000, used=n % 100)
        for n, p in enumerate(people)
    )
    CourseGrant.objects.bulk_create(CourseGrant(user=p, course=course) for p in people)
    return [str(AccessToken.for_user(p)) for p in people]


def get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        response.read()
        return response.status


def write_lua(path: Path, tokens: list[str], target: str) -> None:
    listed = ",\n".join(f'  "{token}"' for token in tokens)
    path.write_text(
        f"local tokens = {{\n{listed}\n}}\n"
        "local i = math.random(#tokens)\n"
        "request = function()\n"
        "  i = i % #tokens + 1\n"
        f'  return wrk.format("GET", "{target}", '
        '{["Authorization"] = "Bearer " .. tokens[i]})\n'
        "end\n"
    )


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency_ms(output: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else float("nan")


def wrk(url: str, args: argparse.Namespace, duration: int, script: Path | None) -> dict:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = re.search(r"(\d+) requests in", output)
    wrk_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50": _latency_ms(output, "50"),
        "p99": _latency_ms(output, "99"),
        "non2xx": int(bad.group(1)) if bad else 0,
        "requests": int(requests.group(1)) if requests else 0,
        "wrk_us": wrk_cpu / int(requests.group(1)) * 1e6 if requests else float("nan"),
        "socket_errors": errors.group(0) if errors else "",
    }


_TICK = os.sysconf("SC_CLK_TCK")


def _stat_seconds(pid: int, fields: tuple[int, ...]) -> float:
    """CPU seconds from /proc/<pid>/stat (fields numbered as in proc(5)); 0 for a gone process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    values = raw.rsplit(")", 1)[1].split()  # fields from 3 on
    return sum(int(values[field - 3]) for field in fields) / _TICK


def server_cpu(gunicorn_pid: int, redis_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by gunicorn's workers (live ones plus those reaped by the master,
    which max_requests recycles) and by redis-server."""
    children = Path(f"/proc/{gunicorn_pid}/task/{gunicorn_pid}/children").read_text().split()
    workers = _stat_seconds(gunicorn_pid, (16, 17)) + sum(
        _stat_seconds(int(pid), (14, 15)) for pid in children
    )
    return workers, _stat_seconds(redis_pid, (14, 15))


def run_rounds(base: str, scripts: dict[str, Path], args, pids, redis_url) -> tuple[dict, dict]:
    """Per round: bare, X, bare, Y, bare, Z, bare. Returns every measurement per endpoint, and
    per endpoint other than bare its ratio to the mean of the bare measurements around it."""
    for lua in scripts.values():
        wrk(base, args, args.warmup, lua)
    results: dict[str, list[dict]] = {name: [] for name in scripts}
    others = [name for name in scripts if name != "bare"]
    ratios: dict[str, list[float]] = {name: [] for name in others}

    def measure(round_no: int, name: str) -> dict:
        cpu_before, misses_before = server_cpu(*pids), keyspace_misses(redis_url)
        figures = wrk(base, args, args.duration, scripts[name])
        cpu_after, misses_after = server_cpu(*pids), keyspace_misses(redis_url)
        figures["misses"] = misses_after - misses_before
        served = figures["requests"] or 1
        figures["gunicorn_us"] = (cpu_after[0] - cpu_before[0]) / served * 1e6
        figures["redis_us"] = (cpu_after[1] - cpu_before[1]) / served * 1e6
        results[name].append(figures)
        print(
            f"round {round_no + 1} {name:<11} {figures['rps']:8.0f} req/s  "
            f"p50 {figures['p50']:6.2f} ms  p99 {figures['p99']:6.2f} ms  "
            f"CPU us/req: gunicorn {figures['gunicorn_us']:4.0f} "
            f"redis {figures['redis_us']:3.0f} wrk {figures['wrk_us']:3.0f}  "
            f"key misses {figures['misses']}"
            + (f"  NON-2XX {figures['non2xx']}" if figures["non2xx"] else "")
            + (f"  {figures['socket_errors']}" if figures["socket_errors"] else ""),
            flush=True,
        )
        return figures

    for round_no in range(args.rounds):
        shift = round_no % len(others)
        bare_before = measure(round_no, "bare")
        for name in others[shift:] + others[:shift]:
            figures = measure(round_no, name)
            bare_after = measure(round_no, "bare")
            ratios[name].append(figures["rps"] / ((bare_before["rps"] + bare_after["rps"]) / 2))
            bare_before = bare_after
    return results, ratios


def report(results: dict[str, list[dict]], ratios: dict[str, list[float]]) -> None:
    medians = {
        name: {
            key: statistics.median(r[key] for r in rounds)
            for key in ("rps", "p50", "p99", "gunicorn_us", "redis_us")
        }
        for name, rounds in results.items()
    }
    print("\nmedians over measurements")
    for name, figures in medians.items():
        print(
            f"  {name:<11} {figures['rps']:8.0f} req/s  p50 {figures['p50']:6.2f} ms  "
            f"p99 {figures['p99']:6.2f} ms  server CPU {figures['gunicorn_us']:4.0f} us/req "
            f"(+ redis {figures['redis_us']:3.0f})"
        )
    print("throughput / the bare measurements around it, median over rounds:")
    calibrations = (
        ("access", "  target >= 0.60"),
        ("django+1get", "  (floor: Django view + one cache get)"),
        ("drf+1get", "  (DRF view + one cache get)"),
    )
    for name, target in calibrations:
        per_round = ratios[name]
        print(f"  {name} / bare: {statistics.median(per_round):.2f} (per round: "
              + ", ".join(f"{r:.2f}" for r in per_round) + ")" + target)  # fmt: skip
    to_floor = [a / f for a, f in zip(ratios["access"], ratios["django+1get"], strict=True)]
    print(
        f"  access / django+1get: {statistics.median(to_floor):.2f} "
        "(the hot path against the cheapest Django view that reads Redis once)"
    )
    bad = sum(r["non2xx"] for rounds in results.values() for r in rounds)
    print(f"  non-2xx responses: {bad}")


def redis_info_stats(url: str) -> dict:
    client = redis.Redis.from_url(url)
    try:
        return client.info("stats")
    finally:
        client.close()


def keyspace_misses(url: str) -> int:
    """Redis' count of key lookups that found nothing (the floors' probe misses by design)."""
    return int(redis_info_stats(url)["keyspace_misses"])


def redis_stats(url: str) -> str:
    stats = redis_info_stats(url)
    fields = ("total_connections_received", "total_commands_processed", "keyspace_misses")
    return ", ".join(f"{name}={stats[name]}" for name in fields)


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="etr-bench-"))
    redis = RedisServer().start()
    server = None
    try:
        env = bench_environment(workdir, redis.url, args)
        os.environ.update(env)
        (workdir / "prometheus").mkdir()
        tokens = seed(args.users)
        server = WEB_SERVERS[args.server](free_port(), workdir, env, "access").start()
        base = server.url
        statuses = {get(base + ACCESS_PATH, token) for token in tokens}
        print(
            f"{args.users} learners warmed (statuses {sorted(statuses)}); {args.server} on {base}"
        )
        scripts = {name: workdir / f"{name}.lua" for name in TARGETS}
        for name, target in TARGETS.items():
            write_lua(scripts[name], tokens, target)
        pids = (server.process.pid, redis.process.pid)
        report(*run_rounds(base, scripts, args, pids, redis.url))
        print(f"  redis: {redis_stats(redis.url)}")
    finally:
        if server is not None:
            server.stop()
            log = server.log_text()
            print(f"  Redis breaker trips logged by {args.server}: {log.count('breaker open')}")
            if args.keep_log:
                print(log[-4000:])
        redis.cleanup()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
