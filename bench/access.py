"""Warm /api/me/access and the cached lists against a bare Django JSON view, on granian and gunicorn
in the same run (`make bench-access`).

What it does, all on 127.0.0.1 and cleaned up afterwards (processes stopped by pid):
1. starts its own redis-server on a free port and a temporary SQLite database;
2. migrates it and seeds a few hundred learners, each with a subscription, a token account and a
   course grant, a handful of plans and courses, and signs one JWT per learner;
3. starts granian (etrainer/serve.py) and gunicorn (gunicorn.conf.py), both through
   ``python -m etrainer.serve``, side by side on two ports, with production settings (DEBUG off)
   and a bench-only URLconf (bench/urls.py) that adds the bare view and two floors: the bare view
   after one cache get (django+1get), and a DRF view after one (drf+1get); only one of them is
   under load at any time;
4. warms the access cache with one request per learner on each;
5. drives the endpoints with wrk and prints requests/s, p50 and p99 per measurement, the
   medians, and each endpoint's ratio to bare. The machine's speed drifts by tens of percent
   between windows of a few seconds, so each round measures bare before and after every other
   endpoint (bare, access, bare, plans, bare, ...; the order rotates), and an endpoint's ratio in
   a round is its requests/s over the mean of the two bare measurements around it; the headline
   is the median of those ratios over the rounds. Each round does this on every server in turn
   (the server order alternates between rounds), so that a round also gives granian / gunicorn
   per endpoint; its median over rounds is printed beside the ratios. Every target gets the same
   Lua script that rotates the learners' Authorization headers (the other views ignore them): wrk
   shares the two cores with the server, so its own cost per request must be the same on both
   sides of a ratio.
   The shared rate limiter is off unless --ratelimit (then: huge limits, so that its cost is
   measured but nothing is refused). The access-cache TTLs are an hour unless
   --design-ttls, so that the checks stay warm for the whole run; each measurement prints Redis'
   key misses (0 for warm checks; the floors' probe key misses by design).

With --node (`make bench-node`), the stack of the backend this project replaces (Express with
ioredis and jsonwebtoken on Node's cluster, bench/node/server.js) runs beside them on the same
Redis and the same learners' JWTs, in the same interleaved rounds: its own bare view and its
access check (the same MGET of the same keys, existence and version checks only: bench/node/
README.md), its body a real Django access body with the token's user. Printed: node's access /
bare, and each WSGI server's requests/s, p50 and p99 over node's, per round.

Not a pass/fail test: absolute figures drift with the machine; compare ratios of one run.
"""

import argparse
import json
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

from bench.harness import GRANIAN_BACKPRESSURE, WEB_SERVERS  # noqa: E402
from bench.nodejs import (  # noqa: E402
    NodeServer,
    header_bytes,
    node_environment,
    node_problem,
    response_of,
)
from testsupport.processes import RedisServer, free_port  # noqa: E402

ACCESS_PATH = "/api/me/access"
BARE_PATH = "/bench/bare"
DRF_CACHE_PATH = "/bench/drf-cache"
DJANGO_CACHE_PATH = "/bench/django-cache"
PLANS_PATH = "/api/plans"
COURSES_PATH = "/api/courses"
TARGETS = {
    "bare": BARE_PATH,
    "access": ACCESS_PATH,
    "plans": PLANS_PATH,
    "courses": COURSES_PATH,
    "django+1get": DJANGO_CACHE_PATH,
    "drf+1get": DRF_CACHE_PATH,
}
NODE_TARGETS = ("bare", "access")  # what bench/node/server.js serves
SEED_PLANS = 4
SEED_COURSES = 24


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: per core)")
    parser.add_argument(
        "--servers",
        default="granian,gunicorn",
        help="WSGI servers measured in the same run, comma-separated (the first is the headline)",
    )
    parser.add_argument(
        "--node",
        action="store_true",
        help="also measure Express/ioredis/jsonwebtoken on Node's cluster (bench/node)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="start, seed and warm every server, compare the access bodies, measure nothing",
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
        "GRANIAN_BACKPRESSURE": GRANIAN_BACKPRESSURE,  # see bench/harness.py
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
    for tier in range(2, SEED_PLANS + 1):  # a realistic /api/plans: a few tiers
        Plan.objects.create(code=f"tier{tier}", name=f"Tier {tier}", tier=tier)
    course = Course.objects.create(code="bench-course", title="Bench", min_tier=2)
    Course.objects.bulk_create(  # and a realistic /api/courses catalogue
        Course(code=f"course-{n}", title=f"Course {n}", min_tier=1 + n % SEED_PLANS)
        for n in range(SEED_COURSES - 1)
    )
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
        "wrk_us": wrk_cpu / int(requests.group(1)) * 1e6
        if requests and int(requests.group(1))
        else float("nan"),
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


def server_cpu(server_pid: int, redis_pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server's master and workers (live ones plus those the master
    reaped) and by redis-server."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    workers = _stat_seconds(server_pid, (14, 15, 16, 17)) + sum(
        _stat_seconds(int(pid), (14, 15)) for pid in children
    )
    return workers, _stat_seconds(redis_pid, (14, 15))


class Measured:
    """One server under test: its base URL, the pids whose CPU is counted, every measurement."""

    def __init__(
        self, name: str, base: str, pids: tuple[int, int], targets: tuple[str, ...] = tuple(TARGETS)
    ) -> None:
        self.name, self.base, self.pids, self.targets = name, base, pids, targets
        self.results: dict[str, list[dict]] = {target: [] for target in targets}
        self.ratios: dict[str, list[float]] = {t: [] for t in targets if t != "bare"}
        # per round: requests/s of each endpoint (bare: the mean of its measurements)
        self.per_round: list[dict[str, float]] = []
        # per round: each endpoint's figures (bare: its first measurement of the round)
        self.round_figures: list[dict[str, dict]] = []


def run_round(server: Measured, round_no: int, scripts: dict[str, Path], args, redis_url) -> None:
    """bare, X, bare, Y, bare, ... on one server; the order of the others rotates per round."""
    others = [name for name in server.targets if name != "bare"]

    def measure(name: str) -> dict:
        cpu_before, misses_before = server_cpu(*server.pids), keyspace_misses(redis_url)
        figures = wrk(server.base, args, args.duration, scripts[name])
        cpu_after, misses_after = server_cpu(*server.pids), keyspace_misses(redis_url)
        figures["misses"] = misses_after - misses_before
        served = figures["requests"] or 1
        figures["server_us"] = (cpu_after[0] - cpu_before[0]) / served * 1e6
        figures["redis_us"] = (cpu_after[1] - cpu_before[1]) / served * 1e6
        server.results[name].append(figures)
        print(
            f"round {round_no + 1} {server.name:<8} {name:<11} {figures['rps']:8.0f} req/s  "
            f"p50 {figures['p50']:6.2f} ms  p99 {figures['p99']:6.2f} ms  "
            f"CPU us/req: server {figures['server_us']:4.0f} "
            f"redis {figures['redis_us']:3.0f} wrk {figures['wrk_us']:3.0f}  "
            f"key misses {figures['misses']}"
            + (f"  NON-2XX {figures['non2xx']}" if figures["non2xx"] else "")
            + (f"  {figures['socket_errors']}" if figures["socket_errors"] else ""),
            flush=True,
        )
        return figures

    shift = round_no % len(others)
    bare_before = measure("bare")
    bares = [bare_before["rps"]]
    this_round: dict[str, float] = {}
    figures_of_round = {"bare": bare_before}
    for name in others[shift:] + others[:shift]:
        figures = measure(name)
        bare_after = measure("bare")
        bares.append(bare_after["rps"])
        around = (bare_before["rps"] + bare_after["rps"]) / 2
        server.ratios[name].append(figures["rps"] / around)
        this_round[name] = figures["rps"]
        figures_of_round[name] = figures
        bare_before = bare_after
    this_round["bare"] = statistics.mean(bares)
    server.per_round.append(this_round)
    server.round_figures.append(figures_of_round)


def run_rounds(servers: list[Measured], scripts: dict[str, Path], args, redis_url) -> None:
    """Every round runs every server once; the server order alternates between rounds."""
    for server in servers:
        for name in server.targets:
            wrk(server.base, args, args.warmup, scripts[name])
    for round_no in range(args.rounds):
        order = servers if round_no % 2 == 0 else servers[::-1]
        for server in order:
            run_round(server, round_no, scripts, args, redis_url)


CALIBRATIONS = (
    ("access", "  target >= 0.60"),
    ("plans", "  target >= 0.50"),
    ("courses", "  target >= 0.50"),
    ("django+1get", "  (floor: Django view + one cache get)"),
    ("drf+1get", "  (DRF view + one cache get)"),
)


def report_server(server: Measured) -> dict:
    medians = {
        name: {
            key: statistics.median(r[key] for r in rounds)
            for key in ("rps", "p50", "p99", "server_us", "redis_us")
        }
        for name, rounds in server.results.items()
    }
    print(f"\n{server.name}: medians over measurements")
    for name, figures in medians.items():
        print(
            f"  {name:<11} {figures['rps']:8.0f} req/s  p50 {figures['p50']:6.2f} ms  "
            f"p99 {figures['p99']:6.2f} ms  server CPU {figures['server_us']:4.0f} us/req "
            f"(+ redis {figures['redis_us']:3.0f})"
        )
    print(f"{server.name}: throughput / the bare measurements around it, median over rounds:")
    ratios = {}
    for name, target in CALIBRATIONS:
        if name not in server.targets:
            continue
        if server.name == NodeServer.name:
            target = "  (the Express stack; the targets are Django's)"
        per_round = server.ratios[name]
        ratios[name] = statistics.median(per_round)
        print(f"  {name} / bare: {ratios[name]:.2f} (per round: "
              + ", ".join(f"{r:.2f}" for r in per_round) + ")" + target)  # fmt: skip
    if "django+1get" in server.targets:
        to_floor = [
            a / f
            for a, f in zip(server.ratios["access"], server.ratios["django+1get"], strict=True)
        ]
        print(
            f"  access / django+1get: {statistics.median(to_floor):.2f} "
            "(the hot path against the cheapest Django view that reads Redis once)"
        )
    bad = sum(r["non2xx"] for rounds in server.results.values() for r in rounds)
    print(f"  non-2xx responses: {bad}")
    return {"medians": medians, "ratios": ratios, "non2xx": bad}


def report_between(first: Measured, second: Measured) -> dict:
    """first / second requests/s per endpoint and round (the same round: the same few minutes)."""
    print(f"\n{first.name} / {second.name} requests/s, per round, median over rounds:")
    out = {}
    for name in (t for t in first.targets if t in second.targets):
        pairs = zip(first.per_round, second.per_round, strict=True)
        per_round = [a[name] / b[name] for a, b in pairs]
        out[name] = statistics.median(per_round)
        print(f"  {name:<11} {out[name]:.2f} (per round: "
              + ", ".join(f"{r:.2f}" for r in per_round) + ")")  # fmt: skip
    return out


def report_latency(first: Measured, second: Measured) -> dict:
    """first / second p50 and p99 per endpoint and round (above 1: first is slower)."""
    print(f"{first.name} / {second.name} latency, per round, median over rounds:")
    out = {}
    for name in (t for t in first.targets if t in second.targets):
        pairs = list(zip(first.round_figures, second.round_figures, strict=True))
        for key in ("p50", "p99"):
            per_round = [a[name][key] / b[name][key] for a, b in pairs]
            mine = statistics.median(a[name][key] for a, _ in pairs)
            theirs = statistics.median(b[name][key] for _, b in pairs)
            ratio = out[f"{name} {key}"] = statistics.median(per_round)
            print(f"  {name:<11} {key} {ratio:.2f} ({mine:.2f} ms / {theirs:.2f} ms; per round: "
                  + ", ".join(f"{r:.2f}" for r in per_round) + ")")  # fmt: skip
    return out


def report(servers: list[Measured]) -> dict:
    summary = {"servers": {s.name: report_server(s) for s in servers}}
    wsgi = [s for s in servers if s.name != NodeServer.name]
    node = [s for s in servers if s.name == NodeServer.name]
    if len(wsgi) > 1:
        summary["between"] = report_between(wsgi[0], wsgi[1])
    for server in wsgi if node else ():
        summary[f"{server.name}/node"] = {
            "rps": report_between(server, node[0]),
            "latency": report_latency(server, node[0]),
        }
    return summary


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


def start_node(workdir: Path, env: dict, tokens: list[str], django: Measured, args) -> NodeServer:
    """Node on the same Redis and signing key, answering a real Django access body (learner 0's,
    with each token's user); checked on every learner, body and header sizes printed."""
    status, body, headers = response_of(django.base + ACCESS_PATH, tokens[0])
    if status != 200:
        raise RuntimeError(f"{django.name} answered {status} for the template: {body[:300]!r}")
    template = json.loads(body)
    node = NodeServer(free_port(), workdir, node_environment(env, template, args.workers))
    node.start()
    statuses = {response_of(node.url + ACCESS_PATH, token)[0] for token in tokens}
    print(f"{len(tokens)} learners checked on node {node.url} (statuses {sorted(statuses)}), "
          f"workers {len(node.workers())}")  # fmt: skip
    _, node_body, node_headers = response_of(node.url + ACCESS_PATH, tokens[0])
    same = json.loads(node_body) == template
    print(
        f"  access body: {django.name} {len(body)} B + headers {header_bytes(headers)} B, "
        f"node {len(node_body)} B + headers {header_bytes(node_headers)} B, same JSON: {same}"
    )
    for name, url in ((django.name, django.base), ("node", node.url)):
        _, bare, bare_headers = response_of(url + BARE_PATH, tokens[0])
        print(f"  bare body: {name} {bare!r} + headers {header_bytes(bare_headers)} B")
        if args.check:
            print(
                f"  {name} access headers: {', '.join(headers if name != 'node' else node_headers)}"
            )
    if statuses != {200} or not same:
        raise RuntimeError(f"the Node server does not answer the same access check: {node_body!r}")
    return node


def main() -> int:
    args = parse_args()
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = sorted(set(names) - set(WEB_SERVERS))
    if unknown or not names:
        raise SystemExit(f"--servers: choose among {', '.join(sorted(WEB_SERVERS))}")
    problem = node_problem() if args.node else None
    if problem:
        print(problem, file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="etr-bench-"))
    redis = RedisServer().start()
    started: list = []
    try:
        env = bench_environment(workdir, redis.url, args)
        os.environ.update(env)
        (workdir / "prometheus").mkdir()
        tokens = seed(args.users)
        measured = []
        for name in names:
            server_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"prometheus-{name}")}
            server = WEB_SERVERS[name](free_port(), workdir, server_env, "access").start()
            started.append(server)
            statuses = {get(server.url + ACCESS_PATH, token) for token in tokens}
            print(f"{args.users} learners warmed on {name} {server.url} (statuses "
                  f"{sorted(statuses)}), workers {len(server.workers())}")  # fmt: skip
            measured.append(Measured(name, server.url, (server.process.pid, redis.process.pid)))
        if args.node:
            node = start_node(workdir, env, tokens, measured[0], args)
            started.append(node)
            measured.append(
                Measured(node.name, node.url, (node.process.pid, redis.process.pid), NODE_TARGETS)
            )
        if args.check:
            print("--check: servers seeded and warmed, nothing measured")
            return 0
        scripts = {name: workdir / f"{name}.lua" for name in TARGETS}
        for name, target in TARGETS.items():
            write_lua(scripts[name], tokens, target)
        run_rounds(measured, scripts, args, redis.url)
        report(measured)
        print(f"  redis: {redis_stats(redis.url)}")
    finally:
        for server in started:
            server.stop()
            log = server.log_text()
            if server.name == NodeServer.name:
                print(f"  node worker respawns logged: {log.count('respawning')}")
            else:
                print(f"  Redis breaker trips logged by {server.name}: {log.count('breaker open')}")
            if args.keep_log:
                print(log[-4000:])
        redis.cleanup()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
