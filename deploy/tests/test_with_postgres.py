"""deploy/ci/with_postgres.sh: the throwaway PostgreSQL it starts is usable by manage.py."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.tests.nginx_harness import ROOT

SCRIPT = ROOT / "deploy" / "ci" / "with_postgres.sh"
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_BINS or not shutil.which("bash"), reason="PostgreSQL is absent"),
]


def test_the_application_database_exists_and_manage_py_migrates_it():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}

    result = subprocess.run(
        ["bash", str(SCRIPT), sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
