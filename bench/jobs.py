"""Batched jobs on 10 k and 100 k rows: query counts and peak memory (`make bench-jobs`).

What it does, in this one process:
1. picks the database: a throwaway test_<name> database beside DATABASE_URL's when that points
   at PostgreSQL (e.g. under `bash deploy/ci/with_postgres.sh`), else a temporary SQLite file;
   migrates it;
2. for each size N (10 000, then 100 000): bulk-creates N learners, each with a due subscription
   (ended five minutes ago), an AI-token account in last month's period and an exam history past
   the retention; then runs, through their Celery tasks (lock, JobRun row; eager, no broker):
   expire_subscriptions, reset_ai_tokens, cleanup_exam_histories (after one unmeasured warm-up
   run of each on a few rows);
3. counts every statement the task sends (a connection execute wrapper) and measures the peak
   Python memory of the run (tracemalloc, started after seeding);
4. checks, per job: every due row handled; queries ≤ k·ceil(N/batch) + c, with k the job's
   statements per batch (below) and c its fixed cost; peak memory at the largest size within
   1.5 times that at the smallest. Exits 1 if a check fails.

The counts are what CaptureQueriesContext would report (it counts the same execute calls), but a
capture keeps every statement's SQL in memory, which would be measured as the job's: so the
counting wrapper keeps nothing. The cache is process-local memory (no REDIS_URL), as in
development; the invalidations still run, Redis round trips are not what is measured here.
"""

import argparse
import gc
import math
import os
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED_CHUNK = 5000
WARMUP_ROWS = 200
MEMORY_RATIO_LIMIT = 1.5
FIXED_QUERIES = 10  # c: JobRun bookkeeping, the loop's final empty read, and slack


@dataclass(frozen=True)
class JobBench:
    name: str
    task: str
    # k: statements per batch. Expiry: batch read, existing notice keys, the notices' insert in a
    # savepoint (SQLite splits a 1000-row insert in ~12 statements of ≤ 999 parameters), users
    # subscribed again, quotas, statuses. Reset: read, update. Cleanup: read ids, delete.
    per_batch: int


JOBS = [
    JobBench("expire_subscriptions", "subscriptions.tasks.expire_subscriptions_task", 20),
    JobBench("reset_ai_tokens", "subscriptions.tasks.reset_ai_tokens_task", 2),
    JobBench("cleanup_exam_histories", "learning.tasks.cleanup_exam_histories_task", 3),
]


@dataclass
class Result:
    job: str
    rows: int
    items: int
    queries: int
    peak_bytes: int
    seconds: float


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch", type=int, default=1000, help="batch size passed to each job")
    return parser.parse_args()


def configure(workdir: Path) -> str:
    """Environment for etrainer.settings.local: our database, no Redis, no broker, quiet logs."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = f"sqlite:///{workdir / 'bench-jobs.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "etrainer.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("SLOW_QUERY_MS", "5000")  # 1000-row inserts are slow by design
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        # A throwaway test_<name> database beside DATABASE_URL's, created and migrated by Django's
        # test machinery and dropped at the end: the bench never writes into the real one.
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    else:
        call_command("migrate", verbosity=0)
    return connection.vendor


def teardown(engine: str) -> None:
    from django.conf import settings
    from django.db import connection

    if engine == "postgresql":
        connection.creation.destroy_test_db(settings.DATABASES["default"]["NAME"], verbosity=0)
    connection.close()


def seed(rows: int, *, offset: int) -> None:
    """``rows`` learners with a due subscription, last month's token account, an old history."""
    import datetime as dt

    from django.utils import timezone

    from accounts.models import User
    from learning.models import ExamHistory
    from subscriptions.models import AiTokenAccount, Plan, Subscription
    from subscriptions.selectors import current_period_start

    plan, _ = Plan.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "tier": 1, "ai_tokens_per_period": 100}
    )
    now = timezone.now()
    last_month = (current_period_start() - dt.timedelta(days=1)).replace(day=1)
    for start in range(offset, offset + rows, SEED_CHUNK):
        stop = min(start + SEED_CHUNK, offset + rows)
        users = [User(email=f"bench{n}@example.com") for n in range(start, stop)]
        for user in users:
            user.set_unusable_password()
        users = User.objects.bulk_create(users)
        Subscription.objects.bulk_create(
            Subscription(
                user=user,
                plan=plan,
                started_at=now - dt.timedelta(days=30),
                ends_at=now - dt.timedelta(minutes=5),
                live_key=str(user.pk),
            )
            for user in users
        )
        AiTokenAccount.objects.bulk_create(
            AiTokenAccount(user=user, period_start=last_month, quota=100, used=n % 100)
            for n, user in enumerate(users)
        )
        ExamHistory.objects.bulk_create(
            ExamHistory(
                user=user,
                exam_code="bench",
                score=1,
                max_score=2,
                duration_s=60,
                taken_at=now - dt.timedelta(days=1000),
            )
            for user in users
        )


def run_job(job: JobBench, *, rows: int, batch: int) -> Result:
    from django.db import connection
    from django.utils.module_loading import import_string

    task = import_string(job.task)
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        result = task.apply(kwargs={"batch_size": batch, "trigger": "manual"})
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    outcome = result.get(propagate=True)
    return Result(job.name, rows, outcome.get("items", -1), queries, peak, seconds)


def check(results: list[Result], *, batch: int) -> list[str]:
    failures = []
    for job in JOBS:
        runs = sorted((r for r in results if r.job == job.name), key=lambda r: r.rows)
        for run in runs:
            bound = job.per_batch * math.ceil(run.rows / batch) + FIXED_QUERIES
            if run.items != run.rows:
                failures.append(f"{job.name} at {run.rows}: handled {run.items} rows")
            if run.queries > bound:
                failures.append(f"{job.name} at {run.rows}: {run.queries} queries > {bound}")
        ratio = runs[-1].peak_bytes / runs[0].peak_bytes
        if ratio > MEMORY_RATIO_LIMIT:
            failures.append(f"{job.name}: peak memory x{ratio:.2f} from {runs[0].rows} rows")
    return failures


def report(results: list[Result], *, engine: str, batch: int) -> None:
    print(f"\nengine {engine}, batch {batch}; bound: queries ≤ k·ceil(N/batch) + {FIXED_QUERIES}")
    header = f"{'job':<24}{'rows':>8}{'queries':>9}{'bound':>7}{'q/batch':>9}{'peak KiB':>10}"
    print(header + f"{'x mem':>7}{'seconds':>9}")
    smallest = {}
    for run in results:
        job = next(j for j in JOBS if j.name == run.job)
        batches = math.ceil(run.rows / batch)
        bound = job.per_batch * batches + FIXED_QUERIES
        base = smallest.setdefault(run.job, run.peak_bytes)
        print(
            f"{run.job:<24}{run.rows:>8}{run.queries:>9}{bound:>7}"
            f"{run.queries / batches:>9.1f}{run.peak_bytes / 1024:>10.0f}"
            f"{run.peak_bytes / base:>7.2f}{run.seconds:>9.1f}"
        )


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="etr-bench-jobs-") as workdir:
        engine = configure(Path(workdir))
        results: list[Result] = []
        # Warm-up: first-use imports and caches are not the jobs' memory.
        seed(WARMUP_ROWS, offset=0)
        offset = WARMUP_ROWS
        for job in JOBS:
            run_job(job, rows=WARMUP_ROWS, batch=args.batch)
        for rows in sorted(args.sizes):
            started = time.perf_counter()
            seed(rows, offset=offset)
            offset += rows
            print(f"seeded {rows} rows in {time.perf_counter() - started:.1f}s", flush=True)
            for job in JOBS:
                results.append(run_job(job, rows=rows, batch=args.batch))
                print(f"  {job.name}: {results[-1].seconds:.1f}s", flush=True)
        report(results, engine=engine, batch=args.batch)
        failures = check(results, batch=args.batch)
        teardown(engine)
    for failure in failures:
        print(f"FAIL {failure}")
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
