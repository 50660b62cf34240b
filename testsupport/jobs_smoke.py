"""Jobs smoke: real redis-server, celery worker and celery beat; run with ``make jobs-smoke``
(``python -m testsupport.jobs_smoke``).

Shows that (i) a job scheduled by beat runs on the worker and leaves a JobRun row, and (ii) a
worker SIGKILLed in the middle of a long job, then restarted, completes that job with the right
end state exactly once. The long job is the real ``backup_critical_data`` over a few thousand
users, slowed by BACKUP_THROTTLE_SECONDS (a sleep per batch) which only this configuration sets.

Its own configuration (environment of every process it starts): a short broker visibility
timeout (re-delivery of the killed worker's message), short time limits and lock TTL below it,
a temporary SQLite database migrated here (or DATABASE_URL when set: use a throwaway one; with
``--mongodb``, a SecantusDB replica set started here: ``make jobs-smoke-mongo``), and a temporary
backup directory. Every process it starts is stopped by pid, whatever happens.
"""

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django

from testsupport.processes import CeleryProcesses, MongoServer, RedisServer
from testsupport.processes import wait_for as wait_until

VISIBILITY_TIMEOUT = 15
SOFT_TIME_LIMIT = 8
HARD_TIME_LIMIT = 10
LOCK_MARGIN = 2  # lock TTL 12 s: expired before the message is re-delivered (15 s)
BATCH = 250
THROTTLE = 0.5
SEED_USERS = 5
KILL_USERS = 2000  # 8 throttled batches: about 4 s of work, inside the soft limit


def log(message: str) -> None:
    print(f"[jobs-smoke {time.strftime('%H:%M:%S')}] {message}", flush=True)


def smoke_environment(workdir: Path, redis: RedisServer, database_url: str) -> dict[str, str]:
    base = f"redis://127.0.0.1:{redis.port}"
    return {
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.local",
        "DJANGO_DEBUG": "false",
        "DJANGO_LOG_LEVEL": "INFO",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"{base}/0",
        "CELERY_BROKER_URL": f"{base}/1",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_TASK_SOFT_TIME_LIMIT": str(SOFT_TIME_LIMIT),
        "CELERY_TASK_TIME_LIMIT": str(HARD_TIME_LIMIT),
        "JOBS_LOCK_TTL_MARGIN": str(LOCK_MARGIN),
        "JOBS_RETRY_BACKOFF": "1",
        "BACKUP_DIR": str(workdir / "backups"),
        "BACKUP_KEEP": "10",
        "BACKUP_BATCH_SIZE": str(BATCH),
        "BACKUP_THROTTLE_SECONDS": str(THROTTLE),
    }


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    try:
        return wait_until(condition, timeout, what)
    except TimeoutError as error:
        raise SmokeFailure(str(error)) from error


class SmokeFailure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)
    log(f"ok: {message}")


def create_users(prefix: str, count: int) -> None:
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    users = (
        User(email=f"{prefix}{n}@smoke.invalid", password=make_password(None)) for n in range(count)
    )
    User.objects.bulk_create(users, batch_size=500)


def prepare_database() -> None:
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("migrate", verbosity=0, interactive=False)
    call_command("setup_schedules")
    # The real crontabs must not fire during the smoke (an hourly job at :00, say).
    PeriodicTask.objects.update(enabled=False)
    create_users("seed", SEED_USERS)


def scheduled_job_runs(processes: CeleryProcesses) -> None:
    """(i) beat sends the job on a short interval; the worker runs it and records a JobRun."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from jobs.models import JobRun, JobStatus
    from jobs.schedules import BEAT_KWARGS

    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="smoke: backup every 2 s, once",
        task="jobs.tasks.backup_critical_data_task",
        interval=every,
        one_off=True,
        kwargs=BEAT_KWARGS,
    )
    processes.start_beat()
    run = wait_for(
        lambda: (
            JobRun.objects.filter(job="backup_critical_data", status=JobStatus.SUCCEEDED)
            .filter(trigger="beat")
            .first()
        ),
        45,
        "the beat-scheduled backup to succeed",
    )
    processes.stop("beat")
    check(run.items == SEED_USERS, f"(i) beat-scheduled run recorded: {run} items={run.items}")


def killed_worker_completes_once(processes: CeleryProcesses) -> None:
    """(ii) SIGKILL the worker mid-backup; after re-delivery the backup completes exactly once."""
    from accounts.models import User
    from jobs.models import JobRun, JobStatus
    from jobs.services import ABANDONED_ERROR, job_schedule

    create_users("bulk", KILL_USERS)
    task_id = job_schedule(job="backup_critical_data").task_id
    log(f"queued backup_critical_data as task {task_id}")
    running = wait_for(
        lambda: JobRun.objects.filter(task_id=task_id, status=JobStatus.RUNNING).first(),
        20,
        "the long backup to start",
    )
    time.sleep(1.5)
    check(JobRun.objects.get(pk=running.pk).status == JobStatus.RUNNING, "the backup is mid-run")
    pids = processes.kill_hard("worker-1")
    log(f"SIGKILLed worker-1 and its pool child: pids {pids}")
    check(
        JobRun.objects.get(pk=running.pk).status == JobStatus.RUNNING,
        "the killed run's row is left 'running'",
    )
    redelivery_at = running.started_at.timestamp() + VISIBILITY_TIMEOUT + 2
    log(f"waiting {max(0, redelivery_at - time.time()):.0f}s for the visibility timeout")
    time.sleep(max(0.0, redelivery_at - time.time()))
    processes.start_worker("worker-2")
    wait_for(
        lambda: JobRun.objects.filter(task_id=task_id, status=JobStatus.SUCCEEDED).exists(),
        45,
        "the re-delivered backup to succeed",
    )
    time.sleep(3)  # a second, duplicate delivery would show up here
    for line in processes.log_text("worker-2").splitlines():
        if task_id in line:
            log(f"worker-2: {line.strip()[:160]}")
    verify_end_state(task_id, running.pk, expected_users=User.objects.count())
    check(
        JobRun.objects.get(pk=running.pk).error == ABANDONED_ERROR,
        "the killed run is closed as failed (abandoned) by the next run",
    )


def verify_end_state(task_id: str, killed_run_pk: int, *, expected_users: int) -> None:
    from django.conf import settings

    from jobs.backups import PARTIAL_SUFFIX, backup_verify, complete_backups
    from jobs.models import JobRun, JobStatus

    runs = list(JobRun.objects.filter(task_id=task_id).order_by("started_at"))
    statuses = [run.status for run in runs]
    check(
        statuses == [JobStatus.FAILED, JobStatus.SUCCEEDED],
        f"(ii) runs of the killed task: {statuses} (the killed one, then one success)",
    )
    check(runs[0].pk == killed_run_pk, "the failed run is the one whose worker was killed")
    directory = Path(str(settings.BACKUP_DIR))
    mine = [p for p in complete_backups(directory) if task_id[:8] in p.name]
    check(len(mine) == 1, f"exactly one backup for the task: {[p.name for p in mine]}")
    manifest = backup_verify(path=mine[0])
    users = next(e for e in manifest["models"] if e["label"] == "accounts.User")
    check(users["count"] == expected_users, f"it holds all {expected_users} users, sha256 ok")
    check(runs[1].items == sum(e["count"] for e in manifest["models"]), "items match the manifest")
    check(not list(directory.glob(f"*{PARTIAL_SUFFIX}")), "no partial backup left behind")


def main() -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="etr-jobs-smoke-"))
    redis = RedisServer()
    mongo = MongoServer() if "--mongodb" in sys.argv[1:] else None
    processes = None
    failed = True
    try:
        redis.start()
        log(f"redis-server on port {redis.port} (pid {redis.process.pid}); workdir {workdir}")
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'smoke.sqlite3'}"
        if mongo is not None:
            mongo.start()
            database_url = mongo.url("etrainer_smoke")
            log(f"SecantusDB on port {mongo.port} (pid {mongo.process.pid})")
        env = smoke_environment(workdir, redis, database_url)
        os.environ.update(env)
        django.setup()
        prepare_database()
        processes = CeleryProcesses(workdir, env, log=log)
        processes.start_worker("worker-1")
        scheduled_job_runs(processes)
        killed_worker_completes_once(processes)
        failed = False
    except SmokeFailure as error:
        log(f"FAILED: {error}")
    finally:
        if processes is not None:
            processes.stop_all()
            if failed:
                for name in processes.started:
                    log(f"--- last lines of {name}.log ---")
                    print("\n".join(processes.log_text(name).splitlines()[-30:]), flush=True)
        redis.cleanup()
        if mongo is not None:
            mongo.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    log(f"{'FAILED' if failed else 'PASSED'} in {time.monotonic() - started:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
