"""pytest plugin: start the test run's own servers before Django reads its settings.

Loaded with ``-p testsupport.plugin`` (pyproject addopts). The hook wraps
pytest-django's own ``pytest_load_initial_conftests`` so that REDIS_URL (and, on the MongoDB lane,
DATABASE_URL) is in the environment when etrainer.settings.test is imported; every xdist worker
gets its own servers. It also compiles the message catalogs whose ``.po`` is newer than the
``.mo`` (``testsupport.messages``), so a targeted pytest run reads the current translations.

The MongoDB lane (``make test-mongo``) sets ``TEST_DATABASE=mongodb``: with ``MONGO_URL`` set the
suite runs against that server (Atlas, the compose replica set), otherwise against a SecantusDB
single-node replica set started here from its own virtualenv.
"""

import os

import pytest

from testsupport.messages import compile_catalogs
from testsupport.processes import MongoServer, RedisServer

INSTALL_HINT = (
    "redis-server not found: the tests need a real Redis. Install it "
    "(Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) and run again."
)

MONGO_INSTALL_HINT = (
    "SecantusDB not found: the MongoDB lane runs it from its own virtualenv. Run `make mongo-venv` "
    "(or `make test-mongo`, which builds it), or set MONGO_URL to a MongoDB replica set."
)

_server: RedisServer | None = None
_mongo: MongoServer | None = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _server
    compile_catalogs()  # a stale .mo never makes a translation test pass or fail by accident
    _server = RedisServer()
    try:
        _server.start()
    except FileNotFoundError:
        pytest.exit(INSTALL_HINT, returncode=4)
    os.environ["REDIS_URL"] = _server.url
    if os.environ.get("TEST_DATABASE") == "mongodb":
        os.environ["DATABASE_URL"] = os.environ.get("MONGO_URL") or _start_mongo().url()
    # Importing this plugin imported the etrainer package, whose celery module defaults
    # DJANGO_SETTINGS_MODULE to the local settings; tests always use the test settings
    # (pytest's --ds still wins).
    os.environ["DJANGO_SETTINGS_MODULE"] = "etrainer.settings.test"
    return (yield)


def _start_mongo() -> MongoServer:
    global _mongo
    _mongo = MongoServer()
    try:
        return _mongo.start()
    except (FileNotFoundError, RuntimeError) as exc:
        _mongo.cleanup()
        pytest.exit(f"{MONGO_INSTALL_HINT} ({exc})", returncode=4)


def pytest_unconfigure(config):
    if _server is not None:
        _server.cleanup()
    if _mongo is not None:
        _mongo.cleanup()


def session_redis_server() -> RedisServer:
    assert _server is not None, "the redis plugin did not start a server"
    return _server
