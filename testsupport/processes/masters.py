"""Stopping a server's master process and whatever workers it leaves behind, by pid."""

import contextlib
import os
import signal
import subprocess


def stop_master(
    process: subprocess.Popen | None,
    workers: list[int],
    *,
    stop_signal: int = signal.SIGTERM,
    timeout: float = 30,
) -> None:
    """Send ``stop_signal`` to the master and wait up to ``timeout`` s (then SIGKILL it); then
    SIGKILL each of ``workers`` (read before the signal) it did not stop itself, so that no run
    leaves a server process behind."""
    if process is not None and process.poll() is None:
        os.kill(process.pid, stop_signal)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
