"""Fuzz the live API with schemathesis against its own OpenAPI schema (``make fuzz``, .ci/run).

Starts redis-server and gunicorn (2 workers, a temporary SQLite database, rate limits off so that
429s don't hide answers) on free loopback ports, creates a learner and a staff user with valid
JWTs, runs ``schemathesis run`` on /api/schema with a bounded example count and a fixed seed (the
learner on every operation but /api/system/ and logout-all, the staff user on /api/system/, which
is 403 for a learner), and stops both servers by pid. Fails on any 5xx and on any documented
response whose body is outside the schema.

    python -m etrainer.tests.security.fuzz [--max-examples N] [--seed S]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from testsupport.processes import GunicornServer, RedisServer
from testsupport.processes.gunicorn import ROOT

CHECKS = "not_a_server_error,response_schema_conformance"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SYSTEM_PATHS = "^/api/system/"
# logout-all would end the learner's session for every operation fuzzed after it
LEARNER_EXCLUDED = f"{SYSTEM_PATHS}|^/api/auth/logout-all$"
MAKE_USERS = """
import django; django.setup()
from rest_framework_simplejwt.tokens import AccessToken
from accounts.services import user_create
learner = user_create(email="fuzz@example.com", password="fuzz-password-1234")
staff = user_create(email="fuzz-staff@example.com", password="fuzz-password-1234", is_staff=True)
print(AccessToken.for_user(learner), AccessToken.for_user(staff))
"""


def run(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def fuzz(
    base_url: str, token: str, paths: list[str], *, max_examples: int, seed: int, workdir: str
) -> int:
    """One schemathesis run; it writes its own files under ``workdir``, not into the tree."""
    command = [
        str(SCHEMATHESIS), "run", f"{base_url}/api/schema",
        "--checks", CHECKS,
        "--max-examples", str(max_examples),
        "--seed", str(seed),
        "--header", f"Authorization: Bearer {token}",
        "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none",
        "--request-timeout", "20",
        "--workers", "2",
        # Upload ids hold slashes; most generated path values are filtered out, which is expected.
        # How fast hypothesis generates data depends on the machine's load (in CI the MongoDB lane
        # runs beside this), not on the API: "too slow" is no finding.
        "--suppress-health-check", "filter_too_much,too_slow",
        *paths,
    ]  # fmt: skip
    return subprocess.run(command, cwd=workdir, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 25))
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 20261123)))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="etr-fuzz-") as tmp:
        redis = RedisServer().start()
        env = {
            "DJANGO_SETTINGS_MODULE": "etrainer.settings.test",
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'fuzz.sqlite3'}",
            "REDIS_URL": redis.url,
            "RATELIMIT_ENABLE": "false",
            "MEDIA_BACKEND": "local",
            "DJANGO_MEDIA_ROOT": str(Path(tmp) / "media"),
            "GUNICORN_ACCESS_LOG": "",
        }
        server = None
        try:
            run("manage.py", "migrate", "--noinput", env=env)
            learner, staff = run("-c", MAKE_USERS, env=env).strip().splitlines()[-1].split()
            server = GunicornServer(env=env, workers=2, log_path=Path(tmp) / "gunicorn.log").start()
            budget = {"max_examples": options.max_examples, "seed": options.seed, "workdir": tmp}
            code = max(
                fuzz(server.url, learner, ["--exclude-path-regex", LEARNER_EXCLUDED], **budget),
                fuzz(server.url, staff, ["--include-path-regex", SYSTEM_PATHS], **budget),
            )
            if code != 0:
                print(f"--- gunicorn log (tail)\n{server.log_path.read_text()[-4000:]}")
            return code
        finally:
            if server is not None:
                server.stop()
            redis.cleanup()


if __name__ == "__main__":
    sys.exit(main())
