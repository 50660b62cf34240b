"""WebSocket fan-out: 10,000 authenticated /ws/notifications sockets, one notice each, per server.

`make bench-ws` (and a phase of `make bench`). All on 127.0.0.1, processes stopped by pid:
1. its own redis-server and a SQLite file database with ``--users`` learners (one JWT each);
2. per server (uvicorn as the compose `asgi` service runs it, and granian's ASGI interface, both
   with ``--workers`` workers, in alternating order over ``--rounds``): the server starts,
   ``--clients`` client processes (bench/ws_client.py, asyncio + websockets) open one socket per
   learner (``?token=``) and wait for ``ready``: connect time per socket, sockets refused;
3. then the realistic fan-out: ``notifications_create_many`` stores one notice per learner in one
   go (one bulk insert; after the commit one pipelined PUBLISH per user group on Redis, which every
   ASGI worker relays to the sockets of that user it holds). Time from the call to each socket's
   notification frame: p50, p99, max, and how many never arrived within ``--timeout``;
4. RSS of the server (master + workers) idle, with the sockets open, after the fan-out.

RLIMIT_NOFILE is raised to its hard limit in this process (the servers inherit it) and in each
client. A report, not a pass/fail test.
"""

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testsupport.processes import RedisServer, free_port  # noqa: E402

BIN = Path(sys.executable).parent
WS_PATH = "/ws/notifications"
SERVERS = ("uvicorn", "granian")


def log(message: str) -> None:
    print(f"[bench-ws {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="ASGI workers per server")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per server (alternating)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for fan-out")
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes in flight/client")
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--json", help="write the figures here")
    return parser.parse_args(argv)


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def environment(workdir: Path, redis_url: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{workdir / 'ws.sqlite3'}",
        "REDIS_URL": redis_url,
        "JWT_ACCESS_MINUTES": "120",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "WS_MAX_CONNECTIONS_PER_USER": "5",
    }


def seed(users: int) -> list:
    """Migrate and create the learners in this process; return them (tokens signed later)."""
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User

    call_command("migrate", verbosity=0)
    people = [User(email=f"ws{n}@bench.invalid") for n in range(users)]
    for person in people:
        person.set_unusable_password()
    return User.objects.bulk_create(people, batch_size=2000)


def tokens_for(people: list) -> list[str]:
    from rest_framework_simplejwt.tokens import AccessToken

    return [str(AccessToken.for_user(p)) for p in people]


def fan_out(people: list, tag: str) -> dict:
    """One notice per learner through the service the app uses for bulk notices."""
    from notifications.models import NotificationKind
    from notifications.services.notices import NotificationDraft, notifications_create_many

    drafts = [
        NotificationDraft(
            user=p,
            kind=NotificationKind.SYSTEM,
            title="Maintenance tonight",
            body="The service pauses for ten minutes at 02:00 UTC.",
            dedupe_key=f"bench-ws:{tag}:{p.pk}",
        )
        for p in people
    ]
    started = time.time()
    stored = notifications_create_many(drafts=drafts)
    return {"started": started, "returned_s": time.time() - started, "stored": stored}


class AsgiServer:
    def __init__(self, kind: str, workdir: Path, env: dict[str, str], workers: int) -> None:
        self.kind, self.workers, self.env = kind, workers, env
        self.port = free_port()
        self.log_path = workdir / f"{kind}-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.kind == "uvicorn":  # docker-compose.yml's asgi service, on loopback
            return [str(BIN / "uvicorn"), "etrainer.asgi:application", "--host", "127.0.0.1",
                    "--port", str(self.port), "--workers", str(self.workers),
                    "--ws-ping-interval", "20", "--ws-ping-timeout", "20", "--backlog", "4096",
                    "--timeout-graceful-shutdown", "30", "--no-access-log"]  # fmt: skip
        return [str(BIN / "granian"), "--interface", "asginl", "--ws", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--backlog", "4096",
                "--no-access-log", "--workers-kill-timeout", "30",
                "etrainer.asgi:application"]  # fmt: skip

    def start(self) -> "AsgiServer":
        Path(self.env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env={**os.environ, **self.env},
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited:\n{self.log_path.read_text()[-3000:]}")
            if len(self.worker_pids()) >= self.workers and self.answers():
                time.sleep(1.0)
                return self
            time.sleep(0.3)
        raise RuntimeError(f"{self.kind} did not start:\n{self.log_path.read_text()[-3000:]}")

    def answers(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                return True
        except Exception:  # 503 or not up yet: an HTTPError means "listening"
            return "HTTP Error" in str(sys.exc_info()[1])

    def worker_pids(self) -> list[int]:
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []
        return [c.pid for c in children if "resource_tracker" not in " ".join(c.cmdline())]

    def rss_mb(self) -> float:
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            with contextlib.suppress(psutil.Error):
                total += psutil.Process(pid).memory_info().rss
        return total / 2**20

    def version(self) -> str:
        done = subprocess.run(
            [self.command()[0], "--version"], capture_output=True, text=True, check=False
        )
        lines = (done.stdout + done.stderr).strip().splitlines()
        return lines[0] if lines else "?"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Clients:
    """``count`` bench/ws_client.py processes, the tokens split between them."""

    def __init__(self, count: int, url: str, tokens: list[str], concurrency: int) -> None:
        self.processes = []
        for n in range(count):
            share = tokens[n::count]
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "ws_client.py")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
            )  # fmt: skip
            job = {"url": url, "tokens": share, "origin": "http://127.0.0.1",
                   "concurrency": concurrency}  # fmt: skip
            process.stdin.write(json.dumps(job) + "\n")
            process.stdin.flush()
            self.processes.append(process)

    def ask(self, order: dict | None) -> list[dict]:
        if order is not None:
            for process in self.processes:
                process.stdin.write(json.dumps(order) + "\n")
                process.stdin.flush()
        return [json.loads(process.stdout.readline() or "{}") for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    process.stdin.write(json.dumps({"close": True}) + "\n")
                    process.stdin.close()
                    process.wait(timeout=60)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
                    process.wait()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def one_round(kind: str, round_no: int, people, tokens, workdir, env, args) -> dict:
    server = AsgiServer(kind, workdir, env, args.workers).start()
    clients = None
    try:
        idle = server.rss_mb()
        url = f"ws://127.0.0.1:{server.port}{WS_PATH}"
        t0 = time.perf_counter()
        clients = Clients(args.clients, url, tokens, args.concurrency)
        opened = clients.ask(None)
        connect_wall = time.perf_counter() - t0
        connect_ms = [ms for part in opened for ms in part.get("connect_ms", [])]
        connected = sum(part.get("connected", 0) for part in opened)
        errors: dict[str, int] = {}
        for part in opened:
            for name, n in part.get("errors", {}).items():
                errors[name] = errors.get(name, 0) + n
        log(f"{kind} round {round_no + 1}: {connected}/{len(tokens)} sockets open in "
            f"{connect_wall:.1f}s (p50 {percentile(connect_ms, .5):.0f} ms, "
            f"p99 {percentile(connect_ms, .99):.0f} ms) errors {errors or 0}")  # fmt: skip
        if errors:
            lines = server.log_path.read_text(errors="replace").splitlines()
            noted = [line for line in lines if "rror" in line or "xception" in line]
            log(f"{kind} log, error lines ({len(noted)}): " + " | ".join(noted[-3:])[:600])
        time.sleep(2.0)
        held = server.rss_mb()
        sent = fan_out(people, f"{kind}-{round_no}-{secrets.token_hex(4)}")
        got = clients.ask({"timeout": args.timeout})
        received = [stamp for part in got for stamp in part.get("received", [])]
        missing = sum(part.get("missing", 0) for part in got)
        latency = [(stamp - sent["started"]) * 1000 for stamp in received]
        published = sent["started"] + sent["returned_s"]  # after the commit and the PUBLISHes
        relay = [(stamp - published) * 1000 for stamp in received]
        after = server.rss_mb()
        figures = {
            "server": kind,
            "round": round_no + 1,
            "version": server.version(),
            "sockets": len(tokens),
            "connected": connected,
            "connect_errors": errors,
            "connect_wall_s": connect_wall,
            "connect_p50_ms": percentile(connect_ms, 0.5),
            "connect_p99_ms": percentile(connect_ms, 0.99),
            "stored": sent["stored"],
            "create_many_s": sent["returned_s"],
            "received": len(received),
            "missing": missing,
            "fanout_p50_ms": percentile(latency, 0.5),
            "fanout_p99_ms": percentile(latency, 0.99),
            "fanout_max_ms": max(latency) if latency else float("nan"),
            "relay_p50_ms": percentile(relay, 0.5),
            "relay_p99_ms": percentile(relay, 0.99),
            "relay_max_ms": max(relay) if relay else float("nan"),
            "rss_idle_mb": idle,
            "rss_open_mb": held,
            "rss_after_mb": after,
        }
        log(f"{kind} round {round_no + 1}: {len(received)}/{connected} notified "
            f"(create_many returned after {sent['returned_s'] * 1000:.0f} ms); fan-out p50 "
            f"{figures['fanout_p50_ms']:.0f} ms p99 {figures['fanout_p99_ms']:.0f} ms max "
            f"{figures['fanout_max_ms']:.0f} ms (after create_many returned: p50 "
            f"{figures['relay_p50_ms']:.0f} ms, max {figures['relay_max_ms']:.0f} ms); "
            f"RSS idle {idle:.0f} MiB, open {held:.0f} MiB, "
            f"after {after:.0f} MiB")  # fmt: skip
        return figures
    finally:
        if clients is not None:
            clients.stop()
        server.stop()


SUMMARY_KEYS = (
    "connect_wall_s", "connect_p50_ms", "connect_p99_ms", "fanout_p50_ms", "fanout_p99_ms",
    "fanout_max_ms", "relay_p50_ms", "relay_p99_ms", "relay_max_ms", "rss_idle_mb",
    "rss_open_mb", "rss_after_mb", "create_many_s",
)  # fmt: skip


def summarize(rounds: list[dict]) -> dict:
    out: dict[str, dict] = {}
    for kind in sorted({r["server"] for r in rounds}):
        mine = [r for r in rounds if r["server"] == kind]
        out[kind] = {key: statistics.median(r[key] for r in mine) for key in SUMMARY_KEYS}
        out[kind]["missing"] = sum(r["missing"] for r in mine)
        out[kind]["not_connected"] = sum(r["sockets"] - r["connected"] for r in mine)
        out[kind]["version"] = mine[0]["version"]
        out[kind]["rounds"] = len(mine)
    return out


def run(args: argparse.Namespace) -> dict:
    hard = raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="etr-bench-ws-"))
    redis = RedisServer().start()
    try:
        env = environment(workdir, redis.url)
        os.environ.update(env)
        started = time.time()
        people = seed(args.users)
        tokens = tokens_for(people)
        log(f"{len(people)} learners seeded in {time.time() - started:.1f}s; "
            f"RLIMIT_NOFILE {hard}")  # fmt: skip
        kinds = [k for k in args.servers.split(",") if k]
        rounds = []
        for round_no in range(args.rounds):
            order = kinds if round_no % 2 == 0 else kinds[::-1]
            for kind in order:
                rounds.append(one_round(kind, round_no, people, tokens, workdir, env, args))
        result = {"args": vars(args), "rounds": rounds, "summary": summarize(rounds)}
    finally:
        redis.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def print_summary(summary: dict) -> None:
    print("\nmedians per server")
    for kind, s in summary.items():
        print(
            f"  {kind:<8} connect {s['connect_wall_s']:5.1f}s (p99 {s['connect_p99_ms']:5.0f} ms)"
            f"  fan-out p50 {s['fanout_p50_ms']:6.0f} ms p99 {s['fanout_p99_ms']:6.0f} ms max "
            f"{s['fanout_max_ms']:6.0f} ms (after create_many: p50 {s['relay_p50_ms']:.0f}, max "
            f"{s['relay_max_ms']:.0f})  create_many {s['create_many_s']:.1f}s  missing "
            f"{s['missing']}  not connected "
            f"{s['not_connected']}  RSS idle/open/after {s['rss_idle_mb']:.0f}/"
            f"{s['rss_open_mb']:.0f}/{s['rss_after_mb']:.0f} MiB"
        )


def main() -> int:
    args = parse_args()
    result = run(args)
    print_summary(result["summary"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
