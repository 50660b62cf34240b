"""Write bench/RESULTS.md from the figures bench/run_all.py collected (also: re-render from the
JSON beside it: ``python -m bench.report bench/RESULTS.json``)."""

import json
import math
import sys
import time
from pathlib import Path

ACCESS = "access check (warm)"
BARE = "bare Django JSON"
PLANS = "plans list"
COURSES = "courses list"


def _f(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _pct(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value * 100:.{digits}f} %"


def _statuses(found) -> dict[int, int]:
    return {int(code): n for code, n in sorted((found or {}).items(), key=lambda i: int(i[0]))}


def _load(values) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def headline_level(r: dict) -> int:
    """The connection level with the most rounds (256 in the default plan)."""
    levels = {int(c): per for c, per in r["throughput"].items()}
    return max(levels, key=lambda c: (levels[c][BARE]["rounds"], c))


def write_report(r: dict, path: Path) -> None:
    lines: list[str] = []
    add = lines.append
    tp = {int(c): per for c, per in r["throughput"].items()}
    H = headline_level(r)  # the level the done-when ratios are read at
    ratio_h = tp[H][ACCESS]["rps"] / tp[H][BARE]["rps"]
    errors_256 = {name: f["error_rate"] for name, f in tp[256].items()}
    worst_256 = max(errors_256.values())
    zipf_rate = r["zipf"]["cache"]["rate"]
    rk = r["redis_kill"]
    redis_failed = rk["non2xx"] + rk["socket_errors"]
    mem = r["memory"]["workers"]
    slopes = [w["slope_after_warm"] for w in mem.values()]
    worst_slope = max((s for s in slopes if not math.isnan(s)), default=float("nan"))
    v = r["versions"]

    add("# Load and resilience results (`make bench`)")
    add("")
    add(
        f"Run of {r.get('started_at') or time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{r['total_s']:.0f} s in all, "
        f"on {r['cpus']} cores of a shared virtual machine (its speed drifts from minute to "
        f"minute; the suite's own wrk, web servers and databases load it, and so may other "
        f"work on the same machine): load average (1/5/15 min) "
        f"{_load(r['load_start'])} at the start, {_load(r['load_end'])} at the end; absolute "
        "figures are noisy, the ratios taken in this one run are what count."
    )
    add(
        f"Python {v['python']}, Django {v['django']}, **granian {v.get('granian', '?')}** "
        f"(the headline server: `python -m etrainer.serve`, {r['workers']} workers = one per "
        f"core, one blocking thread each), gunicorn {v['gunicorn']} beside it for the comparison "
        f"(gunicorn.conf.py, {r.get('compare_workers', '?')} sync workers), PostgreSQL "
        f"{v['postgres']} (throwaway cluster, fsync off), Redis {v['redis']}, wrk {v['wrk']} "
        "(2 threads, on the same cores). Settings: `bench.settings` (production, DEBUG off) with "
        f"{r['args']['users']:,} seeded learners; rate limiter **on** with the limits raised "
        "(`RATELIMIT_DEFAULT=RATELIMIT_AI=100000000/m`) except in the production-limits run; "
        "worker recycling off (`GUNICORN_MAX_REQUESTS=0`, `GRANIAN_WORKERS_LIFETIME=0`, "
        "`GRANIAN_WORKERS_MAX_RSS=0`) except in that run too; listen backlog "
        f"{r.get('backlog', 4096)} (the kernel's `net.core.somaxconn`), RLIMIT_NOFILE "
        f"{r.get('nofile', '?')} for wrk and the servers; granian with "
        f"`GRANIAN_BACKPRESSURE={r.get('backpressure', 128)}` (with its default, backlog / "
        "workers, and one blocking thread, granian stopped answering at 256 connections on "
        "this code: see the note below the throughput table)."
    )
    add("")
    add("## Done-when figures")
    add("")
    add("| target | measured | |")
    add("| --- | --- | --- |")
    add(
        f"| warm access ≥ 0.6 x bare req/s at {H} connections (granian) | "
        f"{ratio_h:.2f} x ({_f(tp[H][ACCESS]['rps'], 0)} vs {_f(tp[H][BARE]['rps'], 0)} "
        f"req/s, medians of {tp[H][ACCESS]['rounds']} rounds) | {_verdict(ratio_h >= 0.6)} |"
    )
    for name in (PLANS, COURSES):
        if name in tp[H]:
            ratio = tp[H][name]["rps"] / tp[H][BARE]["rps"]
            add(
                f"| {name} ≥ 0.5 x bare at {H} connections (granian) | {ratio:.2f} x "
                f"({_f(tp[H][name]['rps'], 0)} req/s) | {_verdict(ratio >= 0.5)} |"
            )
    between = r.get("server_ratios", {})
    if between:
        level = between.get(str(H)) or between.get(H) or {}
        if ACCESS in level:
            add(
                f"| granian / gunicorn, warm access, {H} connections (median of per-round "
                f"ratios) | {level[ACCESS]['median']:.2f} x; bare view "
                f"{level[BARE]['median']:.2f} x | |"
            )
    many = r.get("many") or {}
    for server, f in many.items():
        errors = f["non2xx"] + f["socket_errors"]
        add(
            f"| 0 errors at {r.get('many_connections', 10000):,} connections ({server}) | "
            f"{errors} errors of {f['requests']:,} ({f['socket_detail'] or 'no socket errors'}), "
            f"{_f(f['rps'], 0)} req/s, p99 {_f(f['p99'], 0)} ms | {_verdict(errors == 0)} |"
        )
    add(
        f"| 0 % errors at 256 connections | worst endpoint {_pct(worst_256, 3)} "
        f"({', '.join(f'{n}: {_pct(e, 3)}' for n, e in errors_256.items())}) | "
        f"{_verdict(worst_256 == 0)} |"
    )
    add(
        f"| cache hit ≥ 97 % on the Zipf workload | {_pct(zipf_rate)} (steady window); "
        f"{_pct(r['zipf_cold']['rate'])} over the first {r['zipf_cold']['requests']:,} requests "
        f"(40 s) from a cold cache | {_verdict(zipf_rate >= 0.97)} |"
    )
    add(
        f"| Redis kill → 0 failed requests | {redis_failed} failed of {rk['requests']:,} "
        f"(non-2xx {rk['non2xx']}, socket errors {rk['socket_errors']}) | "
        f"{_verdict(redis_failed == 0)} |"
    )
    add(
        f"| worker RSS slope < 1 MB per 10 k requests | worst worker "
        f"{_f(worst_slope, 3)} MB / 10 k (past each worker's first 10 k requests) | "
        f"{_verdict(not math.isnan(worst_slope) and worst_slope < 1.0)} |"
    )
    add("")

    _misses(r, add, ratio_h, worst_256, zipf_rate, redis_failed, worst_slope)

    add("## Throughput and latency")
    add("")
    add(
        f"`wrk -t2 -cN -d{r['args']['duration']}s --latency --timeout=10s` after a 2 s warm-up "
        "per endpoint and level; endpoints "
        f"rotated round by round; {H} connections: medians of "
        f"{tp[H][ACCESS]['rounds']} rounds, other levels one round each (the time budget); "
        "granian and gunicorn run every endpoint in each round, server order alternating. "
        "Errors = non-2xx + socket errors (connect/read/write/timeout) from wrk's output. "
        f"JWTs of {r['args']['hot_users']:,} learners rotated by a Lua script; access and course "
        "caches warmed first; each learner's quota is 2·10⁹ tokens so consume never answers 409."
    )
    add("")
    add("| endpoint | conns | req/s | x bare | p50 ms | p99 ms | requests | errors | error rate |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for conns in sorted(tp):
        bare = tp[conns][BARE]["rps"]
        for name, f in tp[conns].items():
            add(
                f"| {name} | {conns} | {_f(f['rps'], 0)} | {f['rps'] / bare:.2f} | "
                f"{_f(f['p50'], 2)} | {_f(f['p99'], 2)} | {f['requests']:,} | "
                f"{f['non2xx']} + {f['socket_errors']} | {_pct(f['error_rate'], 3)} |"
            )
    add("")
    per_round = ", ".join(
        f"{a / b:.2f}"
        for a, b in zip(tp[H][ACCESS]["per_round_rps"], tp[H][BARE]["per_round_rps"], strict=True)
    )
    add(f"Access / bare at {H} connections per round (granian): {per_round}.")
    add("")
    add(
        "**granian's backpressure.** With granian's own default (backlog / workers, here 1,024 "
        "or more per worker) and one blocking thread per worker, `wrk -c256` on the bare view "
        "got **0 responses** (128 connections were fine) and the workers then refused to stop "
        "gracefully (killed after the kill timeout). `etrainer/serve.py` therefore defaults to "
        f"`GRANIAN_BACKPRESSURE={r.get('backpressure', 128)}`, with which every level above "
        "serves."
    )
    loads = {int(c): v for c, v in r["throughput_loads"].items()}
    add(
        "Load average (1 min) after each round: "
        + "; ".join(f"{c} conns: {_load(v)}" for c, v in sorted(loads.items()))
        + "."
    )
    add("")

    _servers_section(r, add)
    _many_section(r, add)
    websocket_section(r.get("websocket"), add)

    add("## Mixed workload, Zipf users: cache hit rate")
    add("")
    z = r["zipf"]
    add(
        f"{r['args']['users']:,} learners, each request's user drawn from Zipf(s = 1.0) over "
        "them (rank → user through a fixed shuffle), endpoints mixed: 60 % GET /api/me/access, "
        "25 % GET /api/courses/{id}/access, 10 % GET /api/exams/history, 5 % POST "
        '/api/ai-tokens/consume {"amount": 1}. Hit rate = hits / (hits + misses) from the deltas '
        "of `etrainer_cache_requests_total{family,result}` on /metrics around the window."
    )
    add("")
    add(
        "Steady window, right after 40 s of the same Zipf traffic from a cold cache: "
        f"`wrk -t2 -c32 -d{r['args']['duration']}s` after a 2 s warm-up: {_f(z['rps'], 0)} "
        "req/s, p50 "
        f"{_f(z['p50'], 2)} ms, p99 {_f(z['p99'], 2)} ms, errors {z['non2xx']} + "
        f"{z['socket_errors']} of {z['requests']:,}; load average {z['load']:.2f}."
    )
    add("")
    add("| family | hits | misses | hit rate (steady) | hit rate (cold start, first 40 s) |")
    add("| --- | ---: | ---: | ---: | ---: |")
    cold = r["zipf_cold"]["families"]
    for family, f in z["cache"]["families"].items():
        add(
            f"| {family} | {f['hits']:,.0f} | {f['misses']:,.0f} | {_pct(f['rate'])} | "
            f"{_pct(cold.get(family, {}).get('rate'))} |"
        )
    add(
        f"| **all** | {z['cache']['hits']:,.0f} | {z['cache']['misses']:,.0f} | "
        f"**{_pct(z['cache']['rate'])}** | {_pct(r['zipf_cold']['rate'])} |"
    )
    add("")

    add("## Faults under steady load")
    add("")
    add(
        "wrk runs in the background for a fixed 20 s (`wrk -t2 -c32 -d20s`, a Lua script "
        "counting statuses per second and checking that every non-2xx body is the JSON error "
        "envelope) while the script acts; a probe makes one request every 50 ms on its own "
        "connection for latency per phase and recovery time."
    )
    add("")
    add(
        f"**Redis SIGKILLed** at +5 s, restarted empty on the same port "
        f"{rk['down_s']:.1f} s later (`/api/me/access`, warm). wrk: {rk['requests']:,} "
        f"requests, {rk['rps']:.0f} req/s, non-2xx {rk['non2xx']}, socket errors "
        f"{rk['socket_errors']} ({rk['socket_detail'] or 'none'}); statuses "
        f"{_statuses(rk['statuses'])}."
    )
    add("")
    add("| phase | probes | failed | p50 ms | p99 ms | max ms | wrk non-2xx (±1 s) |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, f), errors in zip(rk["phases"].items(), rk["phase_errors"], strict=True):
        add(
            f"| {name} | {f['probes']} | {f['failed']} | {_f(f['p50'], 2)} | {_f(f['p99'], 2)} "
            f"| {_f(f['max'], 1)} | {errors} |"
        )
    add("")
    pg = r["pg_restart"]
    env_ok, env_bad = pg["envelopes"] or (0, 0)
    add(
        "**PostgreSQL restarted** (`pg_ctl stop -m fast` at +5 s, `pg_ctl start -w` at +8 s; "
        "`GET /api/exams/history`, which reads the database on every request). wrk: "
        f"{pg['requests']:,} requests, non-2xx {pg['non2xx']}, socket errors "
        f"{pg['socket_errors']}; statuses {_statuses(pg['statuses'])}; "
        "non-2xx bodies in the JSON envelope: "
        f"{env_ok} of {env_ok + env_bad}. Probe statuses from the stop on: "
        f"{pg['probe_statuses']} (0 = no HTTP answer). First 2xx "
        f"{_f(pg['recovered_after_s'], 2)} s after PostgreSQL accepted connections again "
        f"(outage seen by clients: {_f(pg['outage_s'], 2)} s from the stop); "
        + (
            f"last failed probe {_f(pg['last_failure_after_s'], 2)} s after the restart."
            if pg["last_failure_after_s"] is not None
            else "no failed probe after the restart."
        )
    )
    add("")
    add("| phase | probes | failed | p50 ms | p99 ms | max ms |")
    add("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, f in pg["phases"].items():
        add(
            f"| {name} | {f['probes']} | {f['failed']} | {_f(f['p50'], 2)} | {_f(f['p99'], 2)} "
            f"| {_f(f['max'], 1)} |"
        )
    add("")
    c = r["celery"]
    add(
        "**Celery worker SIGKILLed mid-job**: `python -m testsupport.jobs_smoke` (real "
        "redis-server, worker and beat, its own SQLite and short visibility timeout; see "
        "testsupport/jobs_smoke.py) run as a child "
        "process during the cold Zipf phase's load, i.e. on a loaded machine. "
        f"Verdict: `{c['verdict']}` (exit {c['returncode']}, {c['seconds']:.0f} s). Checks:"
    )
    add("")
    for check in c["checks"]:
        add(f"- {check}")
    add("")

    add("## Memory per granian worker")
    add("")
    m = r["memory"]
    add(
        f"RSS of each worker sampled by psutil every second from boot to the end of the "
        f"throughput runs ({m['seconds']:.0f} s: the cold and steady Zipf phases, then every "
        f"throughput cell), {m['requests']:,.0f} requests in all, all endpoints; each worker's "
        "request count from `etrainer_process_requests_served{pid}` on /metrics; slope = least "
        "squares of RSS against the worker's own count, past its first 10 k requests (imports, "
        "connection and template caches settle there) and over the last half of its requests. "
        "Worker recycling off (`GRANIAN_WORKERS_LIFETIME=0`, `GRANIAN_WORKERS_MAX_RSS=0`) so "
        "nothing hides a leak; same pids "
        f"throughout: {m['pids_before'] == m['pids_after']}. Idle = no load for 3 s."
    )
    add("")
    add(
        "| worker pid | idle after boot MB | idle at the end MB | requests | "
        "slope MB/10 k (past first 10 k) | slope MB/10 k (last half) | slope (all samples) |"
    )
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for pid, w in mem.items():
        add(
            f"| {pid} | {_f(w['idle_mb'])} | {_f(w.get('idle_end_mb'))} | "
            f"{w['requests']:,.0f} | {_f(w['slope_after_warm'], 3)} | "
            f"{_f(w.get('slope_last_half'), 3)} | {_f(w['slope_all'], 3)} |"
        )
    add("")

    add("## Production rate limits on")
    add("")
    add(
        "A second granian with the production defaults (`RATELIMIT_DEFAULT=300/m`, "
        "`RATELIMIT_AI=30/m`, worker recycling by lifetime and RSS as configured), `wrk -t2 -c128 "
        f"-d{r['args']['duration']}s` after a 2 s warm-up; the access check rotates "
        f"{r['args']['hot_users']:,} "
        f"learners (a realistic spread), consume only {r.get('prod_consume_users', 20)} (so that "
        "each of them passes 30 a minute within the 12 s and the refusals show):"
    )
    add("")
    add("| endpoint | req/s | p50 ms | p99 ms | statuses | 429 share |")
    add("| --- | ---: | ---: | ---: | --- | ---: |")
    for name, f in r["prod_limits"].items():
        statuses = _statuses(f["statuses"])
        total = sum(statuses.values()) or 1
        add(
            f"| {name} | {_f(f['rps'], 0)} | {_f(f['p50'], 2)} | {_f(f['p99'], 2)} | "
            f"{statuses} | {_pct(statuses.get(429, 0) / total, 1)} |"
        )
    add("")
    add(
        "Each learner sends about req/s x 12 s / learners requests in the run's window: under "
        "300 for the access check, far above 30 for consume, so consume's 429s are the limiter "
        "doing its job (consume's req/s and latencies there mix cheap refusals with real spends)."
    )
    add("")

    off = r.get("limiter_off")
    if off:
        a, b = off[ACCESS], off[BARE]
        add("## Calibration: the rate limiter's cost")
        add("")
        add(
            "A third granian, identical but `RATELIMIT_ENABLE=false`, one run each at 128 "
            f"connections: bare {_f(b['rps'], 0)} req/s, warm access check {_f(a['rps'], 0)} "
            f"req/s (p50 {_f(a['p50'], 2)} ms, p99 {_f(a['p99'], 2)} ms): ratio "
            f"**{a['rps'] / b['rps']:.2f}** without the limiter, against {ratio_h:.2f} with it "
            "(the limiter's counter travels in the same write as the access MGET, so the "
            "difference is the two extra commands and the limiter's bookkeeping; a difference "
            "this small is within one noisy round on a shared machine)."
        )
        floor = off.get("DRF view + 1 cache get")
        if floor:
            add("")
            add(
                "Floor on this machine: a DRF `APIView` without authentication making one cache "
                f"`get` (bench/urls.py) does {_f(floor['rps'], 0)} req/s = "
                f"{floor['rps'] / b['rps']:.2f} x bare; a warm access check does that much work "
                "plus JWT verification, a larger MGET and its JSON, so it cannot exceed this "
                "ratio."
            )
        add("")

    add("## Commands")
    add("")
    add("```sh")
    add("make bench   # = .venv/bin/python bench/run_all.py (writes bench/RESULTS.md and .json)")
    add("python bench/run_all.py --quick   # plumbing check, ~2 minutes, small figures")
    add("python -m bench.report bench/RESULTS.json   # re-render this file from the raw figures")
    add("```")
    add("")
    add(
        "What `bench/run_all.py` runs, in order (every server on 127.0.0.1, stopped by pid): "
        "`initdb`/`pg_ctl start` (throwaway cluster) + `redis-server` (testsupport); "
        "`migrate` and bulk-created seed in-process; "
        "`python -m etrainer.serve` (granian; `WEB_SERVER=gunicorn` for the comparison server, "
        "gunicorn.conf.py) on 127.0.0.1:PORT with `DJANGO_SETTINGS_MODULE=bench.settings`; then "
        "the wrk invocations named above (`wrk -t2 -c{32,64,128,256,10000} -d{2,10,15,20}s "
        "--latency "
        "-s <generated Lua> URL`); `python -m testsupport.jobs_smoke`; "
        "`pg_ctl stop -m fast` / `start`; "
        "`kill -9 <redis pid>`; `python bench/websocket.py --users 10000` (its own redis-server "
        "and SQLite; `make bench-ws` runs it alone)."
    )
    add("")
    path.write_text("\n".join(lines) + "\n")


def _servers_section(r: dict, add) -> None:
    by_server = r.get("throughput_by_server")
    ratios = r.get("server_ratios")
    if not by_server or not ratios:
        return
    add("## granian and gunicorn in the same run")
    add("")
    add(
        "The same endpoints, levels and rounds as above, gunicorn (gunicorn.conf.py, sync "
        "workers) measured in each round right before or after granian (order alternating). "
        "Ratio = granian req/s / gunicorn req/s of the same round; the median over rounds. "
        "Reproduce: `make bench` (this table), or `make bench-access` (warm access, plans, "
        "courses and the floors against bare, both servers, ~5 min)."
    )
    add("")
    add("| endpoint | conns | granian req/s | gunicorn req/s | granian / gunicorn | "
        "granian p99 ms | gunicorn p99 ms | errors granian / gunicorn |")  # fmt: skip
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    gr, gu = by_server["granian"], by_server["gunicorn"]
    for conns in sorted(gr, key=int):
        for name, f in gr[conns].items():
            g = gu[conns][name]
            ratio = (ratios.get(conns) or ratios.get(str(conns)) or {})[name]["median"]
            add(
                f"| {name} | {conns} | {_f(f['rps'], 0)} | {_f(g['rps'], 0)} | {ratio:.2f} | "
                f"{_f(f['p99'], 2)} | {_f(g['p99'], 2)} | "
                f"{f['non2xx'] + f['socket_errors']} / {g['non2xx'] + g['socket_errors']} |"
            )
    add("")


def _many_section(r: dict, add) -> None:
    many = r.get("many")
    if not many:
        return
    after = r.get("many_after")
    n = r.get("many_connections", 10000)
    add(f"## {n:,} connections at once")
    add("")
    add(
        f"Warm `/api/me/access`, `wrk -t2 -c{n} -d{r['args'].get('many_seconds', 15)}s "
        "--timeout 10s --latency`, one run per server right after the throughput rounds; "
        "RLIMIT_NOFILE raised to its hard limit in the bench process (wrk and the servers "
        "inherit it), both servers' listen backlog at the kernel cap "
        f"({r.get('backlog', 4096)}). Errors are wrk's: non-2xx and socket errors (connect, "
        'read, write, timeout). Reproduce: `make bench` (`BENCH_ARGS="--many 10000 '
        '--many-seconds 15"` are the defaults).'
    )
    add("")
    add("| server | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for server, f in many.items():
        add(
            f"| {server} | {_f(f['rps'], 0)} | {_f(f['p50'], 1)} | {_f(f['p99'], 1)} | "
            f"{f['requests']:,} | {f['non2xx']} | {f['socket_detail'] or 'none'} |"
        )
    add("")
    if after is not None:
        add(
            f"granian's bare view right after this run (5 s timeout): {after}"
            + ("; a fresh granian served the fault runs below." if after != "200" else ".")
        )
        add("")


def websocket_section(ws: dict, add) -> None:
    """bench/websocket.py's figures (a phase of `make bench`, or `make bench-ws` alone)."""
    if not ws or "summary" not in ws:
        if ws and ws.get("error"):
            add("## WebSocket fan-out")
            add("")
            add(f"Not measured in this run: {ws['error']}.")
            add("")
        return
    args = ws["args"]
    add("## WebSocket fan-out: 10,000 open sockets, one notice each")
    add("")
    add(
        f"{args['users']:,} learners, each with one authenticated `/ws/notifications` socket "
        f"(`?token=`), opened by {args['clients']} client processes (bench/ws_client.py: asyncio "
        f"+ websockets, at most {args['concurrency']} handshakes in flight each, a close 4503 "
        "retried after a random backoff as a client should); the ASGI service with "
        f"{args['workers']} workers: uvicorn as docker-compose ran it, granian `--interface "
        "asginl --ws`. Then `notifications_create_many` stores one `system` notice per learner "
        "in one go: one bulk insert, then after the commit one pipelined PUBLISH per user group "
        "(notifications/realtime.py), relayed by each ASGI worker to the sockets it holds. "
        "Fan-out = time from the call to each socket's notification frame; 'after create_many' "
        "= from the call's return (rows stored and PUBLISHes sent). RSS = master + workers. "
        'Reproduce: `make bench-ws` (`BENCH_ARGS="--rounds 2"` alternates the servers).'
    )
    add("")
    add(
        "| server | sockets open | connect wall s | connect p99 ms | failed attempts | "
        "create_many s | fan-out p50 ms | p99 ms | max ms | after create_many p50 / max ms | "
        "missing | RSS idle / open / after MiB |"
    )
    add("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rnd in ws["rounds"]:
        errors = ", ".join(f"{k}: {v}" for k, v in rnd["connect_errors"].items()) or "0"
        add(
            f"| {rnd['server']} ({rnd['version']}) round {rnd['round']} | "
            f"{rnd['connected']:,} / {rnd['sockets']:,} | {rnd['connect_wall_s']:.1f} | "
            f"{_f(rnd['connect_p99_ms'], 0)} | {errors} | {rnd['create_many_s']:.2f} | "
            f"{_f(rnd['fanout_p50_ms'], 0)} | {_f(rnd['fanout_p99_ms'], 0)} | "
            f"{_f(rnd['fanout_max_ms'], 0)} | {_f(rnd.get('relay_p50_ms'), 0)} / "
            f"{_f(rnd.get('relay_max_ms'), 0)} | {rnd['missing']} | "
            f"{rnd['rss_idle_mb']:.0f} / {rnd['rss_open_mb']:.0f} / {rnd['rss_after_mb']:.0f} |"
        )
    add("")


def zipf_ttl_ceiling(users: int, rate: float, ttl: float, s: float = 1.0) -> float:
    """Steady-state hit rate of a TTL cache (no refresh on hit) under independent Zipf draws."""
    norm = sum(1 / k**s for k in range(1, users + 1))
    total = 0.0
    for k in range(1, users + 1):
        p = 1 / (k**s * norm)
        x = p * rate * ttl
        total += p * x / (1 + x)
    return total


def _misses(r, add, ratio_h, worst_256, zipf_rate, redis_failed, worst_slope) -> None:
    """Why each missed figure misses and what would fix it (only the missed ones)."""
    items = []
    off = r.get("limiter_off") or {}
    if ratio_h < 0.6:
        tp = {int(c): per for c, per in r["throughput"].items()}
        misses = tp[headline_level(r)][ACCESS].get("cache_misses", 0)
        text = (
            f"**Warm access {ratio_h:.2f} x bare.** The bare view is Django's middleware plus a "
            "`JsonResponse`; a warm access check adds, per request, the rate limiter (key from the "
            "memoised JWT, then `SET NX EX` + `INCR` sent in the same write as the access `MGET` "
            "of the user, sub, ai and grants keys and their version tokens: one Redis round trip "
            "on a dedicated connection, etrainer/redis_direct.py), `CachedJWTAuthentication` and "
            "the access summary (unpickled; bearer GETs skip DRF's dispatch: "
            "etrainer/api/fast_path.py), the JSON rendering and the metrics (cache counters, "
            "access histogram, per-process gauge, in multiprocess mode). "
        )
        if off:
            a = off["access check (warm)"]["rps"] / off["bare Django JSON"]["rps"]
            text += f"Without the limiter the ratio is {a:.2f} (one noisy round)"
            floor = off.get("DRF view + 1 cache get")
            if floor:
                f = floor["rps"] / off["bare Django JSON"]["rps"]
                text += (
                    f", and a DRF view that reads Redis once reaches {f:.2f} on this "
                    "machine in this run"
                )
            text += ". "
        text += (
            "Each warm round re-reads its learners' entries just before it starts (the design "
            "TTLs stay: the AI-balance entries of learners warmed together would otherwise expire "
            f"together mid-round); the access cache missed {misses:,} times during the warm "
            "access rounds at the headline level. `make bench-access` measures the hot path alone, "
            "beside a Django view that reads Redis once (its floor). "
            "The summary and its JSON body are already composed once per process for the same "
            "entries (subscriptions/rendered.py); what is left is mostly that round trip: on this "
            "virtual machine a loopback Redis round trip costs the worker about as much as the "
            "rest of the check (see bench-access: access / django+1get is close to 1). What would "
            "still shave it: one namespace version token instead of one per family (fewer values "
            "to unpickle). Also: the machine's speed drifts between rounds (see bench-access's "
            "CPU per request), which hurts the longer request more than the bare one."
        )
        items.append(text)
    if worst_256 > 0:
        items.append(
            "**Errors at 256 connections.** See the socket-error counts in the table: a worker "
            "takes in a bounded number of requests (granian's backpressure, gunicorn's sync "
            "workers one at a time), the rest wait in the listen backlog; timeouts are wrk's "
            "2 s limit on a queued request."
        )
    if zipf_rate < 0.97:
        fam = r["zipf"]["cache"]["families"]
        worst = min(fam, key=lambda k: fam[k]["rate"])
        rate = r["zipf"]["rps"]
        users = r["args"]["users"]
        ceilings = ", ".join(
            f"TTL {ttl} s: {zipf_ttl_ceiling(users, rate, ttl) * 100:.1f} %"
            for ttl in (60, 300, 600, 3600)
        )
        items.append(
            f"**Zipf hit rate {zipf_rate * 100:.1f} %: a ceiling, not only warm-up.** "
            "A TTL cache without refresh on hit, "
            f"fed by independent Zipf(1) draws over {users:,} users at the measured "
            f"{rate:.0f} req/s, has a steady-state hit rate per family of sum_u p_u * "
            f"l_u T / (1 + l_u T) (l_u = p_u x req/s): {ceilings}. With the ai family's 60 s "
            "TTL the whole can't reach 97 % at this request rate, however long it runs; at "
            f"1 000 req/s the 60 s ceiling is {zipf_ttl_ceiling(users, 1000, 60) * 100:.1f} %, "
            f"at 3 000 req/s {zipf_ttl_ceiling(users, 3000, 60) * 100:.1f} %. The 40 s cold "
            "phase plus a 12 s window is also far from the 300-600 s a sub/grants entry needs to "
            "reach its own ceiling (an earlier run of this suite on 2026-11-23, with 150 s of "
            "Zipf traffic before the window, measured 94.1 %)."
        )
        items.append(
            "**What would fix the hit rate.** The misses are the long tail: most tail learners "
            "are seen less than once per TTL, so their entries are either loaded for the first "
            "time or expired (TTLs: ai 60 s, sub and user 300 s, grants 600 s); the weakest "
            f"family in this window is `{worst}` ({fam[worst]['rate'] * 100:.1f} %). "
            "Longer TTLs where every write already invalidates or refreshes "
            "the entry (`ACCESS_CACHE_AI_TTL` 60 -> 600, since consume refreshes the balance "
            "after its write and the monthly reset invalidates; `ACCESS_CACHE_SUB_TTL`/"
            "`ACCESS_CACHE_USER_TTL` 300 -> 3600, invalidated on save), which removes the expiry "
            "misses and leaves the first-touch ones; real traffic also comes in sessions (one "
            "learner's requests close together), which independent Zipf draws do not model, so "
            "this is a pessimistic figure."
        )
    if redis_failed:
        items.append(
            "**Failed requests during the Redis kill**: see the status counts above; the "
            "breaker (etrainer/redis_breaker.py) should make every cache call a miss."
        )
    if not (worst_slope < 1.0):
        items.append(
            "**RSS slope.** Growth past the first 10 k requests of a worker is warm-up or a "
            "per-process memo still filling up to its bound (the composed access summaries, "
            "`ACCESS_SUMMARY_MEMO_SIZE` users of about 4 KB each; the verified JWTs; the full "
            "cache keys), new code paths, connection and prepared state of the database driver, "
            "metric children per new label set; the last-half slope shows whether it flattens. "
            "Production recycles granian workers after `GRANIAN_WORKERS_LIFETIME` (a day) or "
            "above `GRANIAN_WORKERS_MAX_RSS` (1024 MiB), gunicorn's every "
            "`GUNICORN_MAX_REQUESTS` (10 000 +- 1 000) requests, which bounds any residual growth."
        )
    pg = r.get("pg_restart") or {}
    if any(int(code) >= 500 and int(code) != 503 for code in (pg.get("statuses") or {})):
        items.append(
            "**PostgreSQL down answers 500, not 503** (in the JSON envelope, code "
            "`server_error`). `etrainer/api/exception_handler.py`: `_as_api_exception` (line "
            "~60-74) maps no database exception, so `django.db.OperationalError` / "
            "`InterfaceError` fall through to the generic 500 at lines ~45-50. Fix (API room): "
            "map them to `503 service_unavailable` with a short `Retry-After` "
            "(`ErrorCode.SERVICE_UNAVAILABLE` exists in etrainer/api/errors.py)."
        )
    if not items:
        return
    add("## Where a figure misses: why, and what would fix it")
    add("")
    for item in items:
        add(f"- {item}")
    add("")


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/RESULTS.json")
    write_report(json.loads(source.read_text()), source.with_suffix(".md"))
