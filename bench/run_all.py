"""`make bench`: the whole system under load, faults injected, figures written to bench/RESULTS.md.

All on 127.0.0.1, bounded (about 13-15 minutes), every process stopped by pid in ``finally``:
a throwaway PostgreSQL cluster and redis-server, 10 k seeded learners with pre-signed JWTs,
granian (etrainer/serve.py; bench settings = production + a bare view) and, for the comparison,
gunicorn (gunicorn.conf.py) beside it, then
1. memory: idle RSS per granian worker, then ~100 k requests with psutil samples (and
   testsupport/jobs_smoke.py - Celery worker SIGKILLed mid-job - running beside it);
2. Zipf mixed workload: cache hit rate from /metrics deltas, from a cold cache and steady;
3. throughput: bare view vs access / course / consume / exam list / plans / courses at 32 and
   256 connections, granian and gunicorn in the same rounds (granian / gunicorn per round);
   then the warm access check with 10,000 connections open on each (RLIMIT_NOFILE raised, the
   listen backlog at the kernel's cap);
4. Redis SIGKILLed and restarted under load; 5. PostgreSQL restarted under load;
6. production rate limits on (one run each for access and consume); 7. limiter off;
8. WebSocket fan-out (bench/websocket.py): 10,000 sockets on uvicorn and on granian's ASGI
   interface, one notice each through notifications_create_many.
A report, not a pass/fail test: compare ratios of one run.
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import faults, load, memory  # noqa: E402
from bench.harness import (  # noqa: E402
    ACCESS_PATH,
    CONSUME_PATH,
    EXAMS_PATH,
    GRANIAN_BACKPRESSURE,
    LISTEN_BACKLOG,
    Granian,
    Gunicorn,
    PostgresCluster,
    bench_environment,
    http_get,
    log,
    raise_nofile,
    seed,
    write_rotating,
    wrk,
)
from testsupport.processes import RedisServer, free_port  # noqa: E402

CLEAN_ENV = dict(os.environ)
PROD_CONSUME_USERS = 20  # few enough that each one passes 30/m within the run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--hot-users", type=int, default=1000, help="tokens of the throughput runs")
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk measurement")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds-256", type=int, default=2)
    parser.add_argument("--many", type=int, default=10_000, help="connections of the big run")
    parser.add_argument("--many-seconds", type=int, default=15)
    parser.add_argument("--ws-users", type=int, default=10_000, help="0: no WebSocket phase")
    parser.add_argument("--cold-seconds", type=int, default=40, help="cold Zipf phase")
    parser.add_argument("--quick", action="store_true", help="tiny run to check the plumbing")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    return parser.parse_args()


def warm(base: str, tokens: list[str], paths: list[str]) -> set[int]:
    jobs = [(base + p, t) for t in tokens for p in paths]
    with ThreadPoolExecutor(8) as pool:
        return {status for status, _ in pool.map(lambda job: http_get(*job), jobs)}


def cold_zipf_phase(server: Granian, zipf: Path, seconds: int, workdir: Path, results: dict):
    """Zipf traffic from a cold cache for a fixed time, the jobs smoke (Celery kill) beside it."""
    smoke = faults.CelerySmoke(workdir, CLEAN_ENV)
    before = load.cache_counts(server.base)
    done, started = 0, time.monotonic()
    for _ in range(max(1, seconds // 10)):
        figures = wrk(server.base + ACCESS_PATH, 64, 10, zipf)
        done += figures["requests"]
        log(f"cold zipf: {done} requests so far ({figures['rps']:.0f} req/s)")
    results["zipf_cold"] = load.hit_rate(before, load.cache_counts(server.base))
    results["zipf_cold"]["requests"] = done
    results["zipf_cold"]["seconds"] = time.monotonic() - started
    log("waiting for the Celery smoke (testsupport/jobs_smoke.py)")
    results["celery"] = smoke.result(timeout=150)
    log(f"celery smoke: {results['celery']['verdict']}")


def answers_after(base: str) -> str:
    """The bare view's status within 5 s, or the error: is the server still serving?"""
    try:
        return str(http_get(base + "/bench/bare", timeout=5.0)[0])
    except OSError as error:
        return f"no answer ({type(error).__name__})"


SERVER_ONLY_PREFIXES = ("RATELIMIT_", "GUNICORN_", "GRANIAN_")


def websocket_phase(users: int, workdir: Path) -> dict:
    """bench/websocket.py in a child process (its own Django settings, redis and SQLite)."""
    output = workdir / "websocket.json"
    env = {k: v for k, v in CLEAN_ENV.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    command = [sys.executable, str(ROOT / "bench" / "websocket.py"), "--users", str(users),
               "--json", str(output)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, timeout=900, check=False)
    if done.returncode != 0 or not output.exists():
        return {"error": f"bench/websocket.py exited {done.returncode}"}
    return json.loads(output.read_text())


def main() -> int:
    args = parse_args()
    if args.quick:
        args.users, args.hot_users, args.duration, args.warmup = 500, 100, 3, 1
        args.rounds_256, args.cold_seconds, args.many, args.many_seconds = 1, 10, 1000, 5
        args.ws_users = min(args.ws_users, 300)
    t_start = time.time()
    nofile = raise_nofile()
    results: dict = {"load_start": os.getloadavg(), "args": vars(args), "cpus": os.cpu_count()}
    results["nofile"] = nofile
    results["backlog"] = LISTEN_BACKLOG
    results["backpressure"] = int(GRANIAN_BACKPRESSURE)
    results["started_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    workdir = Path(tempfile.mkdtemp(prefix="etr-bench-all-"))
    cluster = PostgresCluster(free_port())
    redis = RedisServer()
    servers: list = []
    try:
        cluster.start()
        redis.start()
        log(f"PostgreSQL {cluster.version()} on :{cluster.port}, redis on :{redis.port}")
        env = bench_environment(workdir, cluster.url, redis.url)
        os.environ.update(env)
        Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        seeded = seed(args.users, exams_per_user=3)
        tokens = seeded["tokens"]
        results["seed_s"] = time.time() - t0
        log(f"seeded {len(tokens)} learners in {results['seed_s']:.1f}s")
        # Servers get their settings from their own env dicts: none inherited from this process
        # (the production-limits run must not inherit the raised limits).
        for key in [k for k in os.environ if k.startswith(SERVER_ONLY_PREFIXES)]:
            del os.environ[key]
        hot = tokens[: args.hot_users]
        ranked = tokens[:]
        random.Random(10).shuffle(ranked)
        zipf = load.zipf_script(workdir, ranked, seeded["course_plan"])

        server = Granian(free_port(), workdir, env, "main").start()
        servers.append(server)
        results["worker_class"] = server.worker_class()
        results["workers"] = len(server.workers())
        port = server.port

        # 1. memory: RSS sampled from boot to the end of the throughput runs (> 100 k requests)
        pids = server.workers()
        idle = memory.rss_mb(pids)
        log(f"idle RSS after boot: {idle}")
        sampler = memory.Sampler(server.base, pids, limit_s=600)
        sampler.start()
        memory_started = time.monotonic()

        # 2. Zipf from a cold cache (+ Celery worker killed mid-job beside it), then steady
        cold_zipf_phase(server, zipf, args.cold_seconds, workdir, results)
        wrk(server.base + ACCESS_PATH, 32, args.warmup, zipf)
        results["zipf"] = load.zipf_window(server.base, zipf, 32, args.duration)
        log(f"zipf hit rate {results['zipf']['cache']['rate']:.4f}")

        # 3. throughput, granian and gunicorn in the same rounds
        course_path = f"/api/courses/{seeded['course_plan']}/access"
        other_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus-gunicorn")}
        other = Gunicorn(free_port(), workdir, other_env, "compare").start()
        servers.append(other)
        results["compare_workers"] = len(other.workers())
        bases = {"granian": server.base, "gunicorn": other.base}
        for base in bases.values():
            statuses = warm(base, hot, [ACCESS_PATH, course_path])
        log(f"{len(hot)} hot learners warmed on both (statuses {sorted(statuses)})")
        scripts = load.endpoint_scripts(workdir, hot, seeded["course_plan"])
        plan = {32: 1, 256: args.rounds_256}
        matrix = load.throughput_matrix(
            bases,
            scripts,
            seeded["course_plan"],
            plan,
            args.duration,
            args.warmup,
            rewarm=lambda base: warm(base, hot, [ACCESS_PATH, course_path]),
        )
        results["throughput_by_server"] = {
            name: {
                c: {endpoint: load.medians(rounds) for endpoint, rounds in per.items()}
                for c, per in levels.items()
            }
            for name, levels in matrix["rounds"].items()
        }
        results["throughput"] = results["throughput_by_server"]["granian"]
        results["server_ratios"] = load.server_ratios(matrix["rounds"], "granian", "gunicorn")
        results["throughput_loads"] = matrix["loads"]
        for base in bases.values():
            warm(base, hot, [ACCESS_PATH])
        log(f"{args.many} connections at once, {args.many_seconds}s per server")
        results["many"] = load.many_connections(
            bases, scripts["access check (warm)"], ACCESS_PATH, args.many, args.many_seconds
        )
        results["many_connections"] = args.many
        other.stop()
        sampler.stop()
        results["many_after"] = answers_after(server.base)
        log(f"granian after the {args.many}-connection run: {results['many_after']}")
        time.sleep(3)
        results["memory"] = {
            "workers": memory.summary(sampler, idle, memory.rss_mb(pids)),
            "seconds": time.monotonic() - memory_started,
            "pids_after": server.workers(),
            "pids_before": pids,
        }
        results["memory"]["requests"] = sum(
            w["requests"] for w in results["memory"]["workers"].values()
        )
        log(f"memory: {results['memory']}")

        if results["many_after"] != "200":
            # In one run granian answered nothing after -c10000 (wrk and probes got no answer in
            # the fault runs): reported, then a fresh granian so the fault runs measure faults.
            server.stop()
            server = Granian(free_port(), workdir, env, "after-many").start()
            servers.append(server)
            port = server.port
            warm(server.base, hot, [ACCESS_PATH])
            results["restarted_after_many"] = True

        # 4. Redis killed under load
        counting = write_rotating(
            workdir / "access-count.lua", hot, ACCESS_PATH, count_statuses=True
        )
        results["redis_kill"] = faults.redis_kill(
            redis, server.base, port, counting, hot[0], ACCESS_PATH, 32
        )
        time.sleep(2)

        # 5. PostgreSQL restarted under load (exam list: every request reads the database)
        counting = write_rotating(workdir / "exams-count.lua", hot, EXAMS_PATH, count_statuses=True)
        results["pg_restart"] = faults.postgres_restart(
            cluster, server.base, port, counting, hot[0], EXAMS_PATH, 32
        )
        results["load_main_end"] = os.getloadavg()
        server.stop()

        # 6. production rate limits (defaults) and production worker recycling
        prod_env = {k: v for k, v in env.items() if k not in (
            "RATELIMIT_DEFAULT", "RATELIMIT_AI", "GUNICORN_MAX_REQUESTS")}  # fmt: skip
        prod_env["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "prometheus-prod")
        for key in ("GRANIAN_WORKERS_LIFETIME", "GRANIAN_WORKERS_MAX_RSS"):
            prod_env.pop(key, None)
        prod = Granian(free_port(), workdir, prod_env, "prod-limits")
        prod.start()
        servers.append(prod)
        warm(prod.base, hot, [ACCESS_PATH])
        results["prod_limits"] = {}
        results["prod_consume_users"] = PROD_CONSUME_USERS
        for name, path, users, extra in (
            ("access check", ACCESS_PATH, hot, {}),
            ("token consume", CONSUME_PATH, hot[:PROD_CONSUME_USERS],
             {"method": "POST", "body": '{"amount": 1}'}),
        ):  # fmt: skip
            lua = workdir / f"prod-{path.replace('/', '_')}.lua"
            script = write_rotating(lua, users, path, count_statuses=True, **extra)
            wrk(prod.base + path, 128, args.warmup, script)
            results["prod_limits"][name] = wrk(prod.base + path, 128, args.duration, script)
            log(f"prod limits {name}: {results['prod_limits'][name]['statuses']}")
        prod.stop()

        # 7. calibration: the same access check with the rate limiter off (its cost)
        off_env = {**env, "RATELIMIT_ENABLE": "false"}
        off_env["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "prometheus-off")
        off = Granian(free_port(), workdir, off_env, "limiter-off").start()
        servers.append(off)
        access_lua = scripts["access check (warm)"]
        results["limiter_off"] = {}
        for name, url, lua in (
            ("bare Django JSON", off.base + "/bench/bare", None),
            ("access check (warm)", off.base + ACCESS_PATH, access_lua),
            ("DRF view + 1 cache get", off.base + "/bench/drf-cache", None),
        ):
            wrk(url, 128, args.warmup, lua)
            if lua is access_lua:
                warm(off.base, hot, [ACCESS_PATH])
            results["limiter_off"][name] = wrk(url, 128, args.duration, lua)
            log(f"limiter off {name}: {results['limiter_off'][name]['rps']:.0f} req/s")
        off.stop()
        results["breaker_log_lines"] = sum(s.log_text().count("breaker open") for s in servers)

        # 8. WebSocket fan-out: its own redis and SQLite (bench/websocket.py), the rest stopped
        if args.ws_users:
            log(f"websocket fan-out: {args.ws_users} sockets on uvicorn and granian (ASGI)")
            results["websocket"] = websocket_phase(args.ws_users, workdir)
    finally:
        for server in servers:
            server.stop()
        redis.cleanup()
        cluster.cleanup()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)
    results["load_end"] = os.getloadavg()
    results["total_s"] = time.time() - t_start
    results["versions"] = versions(cluster)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    (Path(args.output).with_suffix(".json")).write_text(json.dumps(results, indent=1, default=str))
    from bench.report import write_report

    write_report(results, Path(args.output))
    log(f"wrote {args.output} in {results['total_s']:.0f}s")
    return 0


def versions(cluster: PostgresCluster) -> dict:
    import django
    import granian
    import gunicorn
    import uvicorn
    import websockets

    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True
    ).stdout.split()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "granian": granian.__version__,
        "uvicorn": uvicorn.__version__,
        "websockets": websockets.__version__,
        "postgres": cluster.version(),
        "redis": next((w[2:] for w in redis_version if w.startswith("v=")), "?"),
        "wrk": (wrk_version.stdout + wrk_version.stderr).split()[1]
        if (wrk_version.stdout + wrk_version.stderr).split()
        else "?",
    }


if __name__ == "__main__":
    sys.exit(main())
