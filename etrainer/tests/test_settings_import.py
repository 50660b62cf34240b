"""Importing the settings reads the environment and does nothing else: no file or directory is
written, no app is imported, no global object (the Redis breaker) is configured. Each case runs in
a child process on a copy of the project package, so that BASE_DIR (and its var/) is a fresh
temporary folder that nothing else writes to."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "subscriptions", "learning", "notifications", "media", "jobs", "monitoring")
STRONG_KEY = "k" * 10 + "Zq8vK2mR7tX4wN9pL3sF6hJ1dG5bC0yA-ue7RkQw3Ez5Tv8Yb1Nm4"

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
breaker = sys.modules.get("etrainer.redis_breaker")
print(json.dumps({
    "apps": sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:])),
    "breaker_reset_seconds": breaker.breaker.reset_seconds if breaker else None,
}))
"""


def tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


@pytest.fixture
def project_copy(tmp_path):
    shutil.copytree(
        ROOT / "etrainer",
        tmp_path / "etrainer",
        ignore=shutil.ignore_patterns("__pycache__", "tests", "mongo_migrations", "templates"),
    )
    return tmp_path


@pytest.mark.parametrize(
    ("module", "env"),
    [
        ("etrainer.settings.local", {}),
        ("etrainer.settings.test", {"REDIS_URL": "redis://127.0.0.1:1/0"}),
        ("etrainer.settings.test", {"DATABASE_URL": "mongodb://127.0.0.1:1/etr?replicaSet=rs0"}),
        (
            "etrainer.settings.production",
            {
                "DJANGO_SECRET_KEY": STRONG_KEY,
                "DJANGO_ALLOWED_HOSTS": "example.com",
                "DJANGO_MEDIA_ROOT": "/nonexistent/media",
                "REDIS_URL": "redis://127.0.0.1:1/0",
            },
        ),
    ],
)
def test_importing_the_settings_writes_nothing_and_configures_nothing(project_copy, module, env):
    # given: a fresh BASE_DIR without var/, and a breaker period that differs from the default
    before = tree(project_copy)
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PROMETHEUS_", "CELERY_"))
    }
    child_env = {
        **inherited,
        "PYTHONPATH": str(project_copy),
        "PYTHONDONTWRITEBYTECODE": "1",
        "REDIS_BREAKER_RESET_SECONDS": "17",
        **env,
    }

    # when
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module, *APPS],
        cwd=project_copy,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # then
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert tree(project_copy) == before
    assert report["apps"] == []
    assert report["breaker_reset_seconds"] in (None, 5.0)
