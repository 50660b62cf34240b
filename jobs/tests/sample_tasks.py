"""Job tasks used only by the tests: they exercise the machinery without any domain code."""

import threading

from jobs.runner import JobContext, job_task

counting_job_calls: list[str] = []
release_waiting_job = threading.Event()
waiting_job_started = threading.Event()


@job_task("test_counting")
def counting_job_task(run: JobContext, *, count: int = 3) -> int:
    counting_job_calls.append(run.task_id)
    for _ in range(count):
        run.add_items(1)
    return run.items


@job_task("test_failing")
def failing_job_task(run: JobContext) -> None:
    run.add_items(2)
    raise RuntimeError("the body failed")


@job_task("test_waiting", time_limit=30)
def waiting_job_task(run: JobContext) -> int:
    waiting_job_started.set()
    if not release_waiting_job.wait(timeout=20):
        raise TimeoutError("the test never released the job")
    return 1
