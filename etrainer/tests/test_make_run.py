"""`make run` on a chosen port, and a clear stop when that port is taken (before any migration)."""

import os
import socket
import subprocess

import pytest

from etrainer.tests.subprocess_env import ROOT
from testsupport.processes import free_port

pytestmark = pytest.mark.slow

# Run make as a user would, not as a sub-make of `make test`; never reinstall the virtualenv.
ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}


def make_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run", *args],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_port_picks_the_port_runserver_listens_on():
    done = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "run", "PORT=8123"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    assert "runserver 127.0.0.1:8123" in done.stdout


def test_a_taken_port_stops_at_once_with_a_hint():
    # given: something listens on the port
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()

        # when
        done = make_run(f"PORT={port}")

    # then: a message naming the port and the fix, and nothing else ran
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken" in output
    assert "make run PORT=" in output
    assert "migrate" not in output
