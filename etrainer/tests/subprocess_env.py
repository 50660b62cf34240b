"""Run manage.py in a child process with a controlled environment (settings are per process)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def env_file(path: Path) -> dict[str, str]:
    """Parse a KEY=VALUE env file the way `set -a; . file` would for our simple files."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value.strip("'\"")
    return values


def production_env(tmp_path: Path) -> dict[str, str]:
    """``.env.production.example`` with its placeholder keys replaced by fresh random ones (the
    placeholders are refused, see etrainer.secret_keys) and a throwaway SQLite database."""
    env = env_file(ROOT / ".env.production.example")
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["JWT_SIGNING_KEY"] = secrets.token_urlsafe(50)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    return env
