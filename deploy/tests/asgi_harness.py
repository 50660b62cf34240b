"""ASGI (uvicorn) processes of the app for the WebSocket tests, on a shared SQLite file database.

``prepare_database`` migrates a fresh SQLite file in a child process and creates the users the test
asks for; every server process of the test (uvicorn, gunicorn) then gets ``DATABASE_URL`` pointing
at it and the run's real Redis (``REDIS_URL``) from the environment. Processes stop by pid.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from rest_framework_simplejwt.tokens import AccessToken

from deploy.tests.nginx_harness import ROOT, stop, wait_for_port
from testsupport.processes import free_port

UVICORN = ROOT / ".venv" / "bin" / "uvicorn"

SEED = """
import json, sys
from datetime import timedelta
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", interactive=False, verbosity=0)
from accounts.models import User
from learning.models import Streak
ids = []
for index, six_day_streak in enumerate(json.loads(sys.argv[1])):
    user = User.objects.create_user(email=f"ws{index}@example.com", password="pw-unused-0123")
    if six_day_streak:
        yesterday = timezone.now().date() - timedelta(days=1)
        Streak.objects.create(user=user, current=6, longest=6, last_active_on=yesterday)
    ids.append(str(user.pk))
print(json.dumps(ids))
"""


def child_env(database: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",
        **extra,
    }


def prepare_database(database: Path, streaks: list[bool]) -> list[str]:
    """Migrate ``database`` and create one user per entry (True: a 6-day streak up to
    yesterday, so that one exam today reaches the 7-day milestone). Returns the user ids."""
    done = subprocess.run(
        [sys.executable, "-c", SEED, json.dumps(streaks)],
        cwd=ROOT, env=child_env(database), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"seeding the database failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def access_token(user_id: str, lifetime: timedelta | None = None) -> str:
    """Signed with the test settings' key, which the child processes share."""
    token = AccessToken()
    token["user_id"] = user_id
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


class Uvicorn:
    """One ASGI server process: ``uvicorn etrainer.asgi:application`` on a free loopback port."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.output = workdir / f"uvicorn-{self.port}.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/notifications"

    def launch(self) -> "Uvicorn":
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [str(UVICORN), "etrainer.asgi:application", "--host", "127.0.0.1",
                 "--port", str(self.port), "--lifespan", "off", "--no-access-log"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def wait(self) -> "Uvicorn":
        try:
            wait_for_port(self.port, self.process, self.output, timeout=60)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop(self.process)
