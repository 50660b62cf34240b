"""Throughput matrix (endpoints x connections, rotating rounds) and the Zipf mixed workload."""

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import (
    ACCESS_PATH,
    BARE_PATH,
    CONSUME_PATH,
    COURSES_PATH,
    EXAMS_PATH,
    PLANS_PATH,
    log,
    metric_values,
    metrics_text,
    write_rotating,
    write_zipf_mixed,
    wrk,
)

CACHE_METRIC = "etrainer_cache_requests_total"
# wrk counts a request unanswered after this long as a timeout error (its default is 2 s): the
# issue's own 10,000-connection figures used 10 s, and a queued request is latency until then.
WRK_TIMEOUT = 10


def endpoint_scripts(workdir: Path, tokens: list[str], course: str) -> dict[str, Path | None]:
    """name -> wrk script, in the order of the report. The bare view gets the same rotating
    Authorization headers (and ignores them): wrk's own cost per request, on the same two cores,
    is then the same on both sides of a ratio."""
    course_path = f"/api/courses/{course}/access"
    return {
        "bare Django JSON": write_rotating(workdir / "bare.lua", tokens, BARE_PATH),
        "access check (warm)": write_rotating(workdir / "access.lua", tokens, ACCESS_PATH),
        "course check (warm)": write_rotating(workdir / "course.lua", tokens, course_path),
        "token consume": write_rotating(
            workdir / "consume.lua", tokens, CONSUME_PATH, method="POST", body='{"amount": 1}'
        ),
        "exam list": write_rotating(workdir / "exams.lua", tokens, EXAMS_PATH),
        "plans list": write_rotating(workdir / "plans.lua", tokens, PLANS_PATH),
        "courses list": write_rotating(workdir / "courses.lua", tokens, COURSES_PATH),
    }


def endpoint_urls(base: str, course: str) -> dict[str, str]:
    return {
        "bare Django JSON": base + BARE_PATH,
        "access check (warm)": base + ACCESS_PATH,
        "course check (warm)": base + f"/api/courses/{course}/access",
        "token consume": base + CONSUME_PATH,
        "exam list": base + EXAMS_PATH,
        "plans list": base + PLANS_PATH,
        "courses list": base + COURSES_PATH,
    }


def throughput_matrix(
    bases: dict[str, str],
    scripts: dict[str, Path | None],
    course: str,
    plan: dict[int, int],
    duration: int,
    warmup: int,
    rewarm: Callable[[str], object] | None = None,
) -> dict:
    """bases: server name -> base URL, all up at once (only one under load at any time).
    plan: connections -> rounds. Per level: a warm-up per endpoint and server, then rounds; in a
    round every server runs every endpoint (endpoint order rotating, server order alternating), so
    that a round gives each endpoint's ratio to bare and each server's ratio to the other.

    A "(warm)" round first calls ``rewarm(base)`` (one read of each learner's entries): at the
    design TTLs the AI-balance entries of learners warmed together expire together (60 s), and a
    round that met that wave would measure cold reads. The cache misses during each such round
    are recorded, so the report can show that warm meant warm."""
    names = list(scripts)
    servers = list(bases)
    results: dict[str, dict[int, dict[str, list[dict]]]] = {s: {} for s in servers}
    loads: dict[int, list[float]] = {}
    for connections, rounds in plan.items():
        for server in servers:
            urls = endpoint_urls(bases[server], course)
            for name in names:
                wrk(urls[name], connections, warmup, scripts[name], timeout=WRK_TIMEOUT)
            results[server][connections] = {name: [] for name in names}
        loads[connections] = []
        for round_no in range(rounds):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for server in servers if round_no % 2 == 0 else servers[::-1]:
                base = bases[server]
                urls = endpoint_urls(base, course)
                for name in order:
                    warm_round = rewarm is not None and "(warm)" in name
                    if warm_round:
                        rewarm(base)
                        before = cache_counts(base)
                    figures = wrk(
                        urls[name], connections, duration, scripts[name], timeout=WRK_TIMEOUT
                    )
                    if warm_round:
                        figures["cache_misses"] = cache_misses(before, cache_counts(base))
                    results[server][connections][name].append(figures)
                    log(
                        f"c={connections:<3} round {round_no + 1} {server:<8} {name:<20} "
                        f"{figures['rps']:7.0f} req/s p50 {figures['p50']:7.2f} p99 "
                        f"{figures['p99']:7.2f} ms errors {figures['non2xx']}+"
                        f"{figures['socket_errors']}"
                    )
            loads[connections].append(os.getloadavg()[0])
    return {"rounds": results, "loads": loads}


def many_connections(
    bases: dict[str, str], script: Path, path: str, connections: int, duration: int
) -> dict[str, dict]:
    """One long wrk run per server with ``connections`` open at once (wrk's --timeout 10s)."""
    out = {}
    for server, base in bases.items():
        figures = wrk(base + path, connections, duration, script, timeout=WRK_TIMEOUT)
        log(
            f"c={connections} {server:<8} {figures['rps']:7.0f} req/s p50 {figures['p50']:7.2f} "
            f"p99 {figures['p99']:7.2f} ms errors {figures['non2xx']}+{figures['socket_errors']} "
            f"({figures['socket_detail'] or 'no socket errors'})"
        )
        out[server] = figures
    return out


def server_ratios(rounds: dict, first: str, second: str) -> dict[int, dict[str, dict]]:
    """first / second requests/s per level, endpoint and round (the same round: the same few
    minutes of the machine), with the median over rounds."""
    out: dict[int, dict[str, dict]] = {}
    for connections, per in rounds[first].items():
        out[connections] = {}
        for name, measured in per.items():
            others = rounds[second][connections][name]
            ratios = [a["rps"] / b["rps"] if b["rps"] else float("nan")
                      for a, b in zip(measured, others, strict=True)]  # fmt: skip
            out[connections][name] = {"median": statistics.median(ratios), "per_round": ratios}
    return out


def medians(rounds: list[dict]) -> dict:
    requests = sum(r["requests"] for r in rounds)
    errors = sum(r["non2xx"] + r["socket_errors"] for r in rounds)
    return {
        "rps": statistics.median(r["rps"] for r in rounds),
        "p50": statistics.median(r["p50"] for r in rounds),
        "p99": statistics.median(r["p99"] for r in rounds),
        "requests": requests,
        "non2xx": sum(r["non2xx"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
        "error_rate": errors / requests if requests else float("nan"),
        "rounds": len(rounds),
        "per_round_rps": [r["rps"] for r in rounds],
        "cache_misses": sum(r.get("cache_misses", 0) for r in rounds),
    }


# --- Zipf ------------------------------------------------------------------------------------

ZIPF_S = 1.0


def zipf_script(
    workdir: Path, tokens: list[str], course: str, weights=(60, 25, 10, 5), name: str = "zipf"
) -> Path:
    """Weights of: access check, course check, exam list, token consume."""
    access, course_check, exams, consume = weights
    mix = [
        (access, "GET", ACCESS_PATH, None),
        (course_check, "GET", f"/api/courses/{course}/access", None),
        (exams, "GET", EXAMS_PATH, None),
        (consume, "POST", CONSUME_PATH, '{"amount": 1}'),
    ]
    return write_zipf_mixed(workdir / f"{name}.lua", tokens, ZIPF_S, mix)


ZIPF_MIX_TEXT = (
    "60 % GET /api/me/access, 25 % GET /api/courses/{id}/access, 10 % GET /api/exams/history, "
    '5 % POST /api/ai-tokens/consume {"amount": 1}'
)


def cache_counts(base: str) -> dict[tuple[str, str], float]:
    counts: dict[tuple[str, str], float] = {}
    for labels, value in metric_values(metrics_text(base), CACHE_METRIC).items():
        found = dict(labels)
        counts[(found.get("family", "?"), found.get("result", "?"))] = value
    return counts


def cache_misses(before: dict, after: dict) -> int:
    """Access-cache misses (all families) between two ``cache_counts``."""
    return int(
        sum(value for (_, result), value in after.items() if result == "miss")
        - sum(value for (_, result), value in before.items() if result == "miss")
    )


def hit_rate(before: dict, after: dict) -> dict:
    families = sorted({family for family, _ in after})
    per_family = {}
    hits_total = misses_total = 0.0
    for family in families:
        hits = after.get((family, "hit"), 0) - before.get((family, "hit"), 0)
        misses = after.get((family, "miss"), 0) - before.get((family, "miss"), 0)
        hits_total += hits
        misses_total += misses
        lookups = hits + misses
        per_family[family] = {
            "hits": hits,
            "misses": misses,
            "rate": hits / lookups if lookups else float("nan"),
        }
    lookups = hits_total + misses_total
    return {
        "families": per_family,
        "hits": hits_total,
        "misses": misses_total,
        "rate": hits_total / lookups if lookups else float("nan"),
    }


def zipf_window(base: str, script: Path, connections: int, duration: int) -> dict:
    before = cache_counts(base)
    started = time.time()
    figures = wrk(base + ACCESS_PATH, connections, duration, script)
    figures["cache"] = hit_rate(before, cache_counts(base))
    figures["started"] = started
    figures["load"] = os.getloadavg()[0]
    return figures
