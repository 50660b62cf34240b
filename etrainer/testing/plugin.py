"""pytest plugin: start the test run's own redis-server before Django reads its settings.

Loaded with ``-p etrainer.testing.plugin`` (pyproject addopts). The hook wraps
pytest-django's own ``pytest_load_initial_conftests`` so that REDIS_URL is in the environment when
etrainer.settings.test is imported; every xdist worker gets its own server.
"""

import os

import pytest

from etrainer.testing.redis_server import RedisServer

INSTALL_HINT = (
    "redis-server not found: the tests need a real Redis. Install it "
    "(Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) and run again."
)

_server: RedisServer | None = None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _server
    _server = RedisServer()
    try:
        _server.start()
    except FileNotFoundError:
        pytest.exit(INSTALL_HINT, returncode=4)
    os.environ["REDIS_URL"] = _server.url
    # Importing this plugin imported the etrainer package, whose celery module defaults
    # DJANGO_SETTINGS_MODULE to the local settings; tests always use the test settings
    # (pytest's --ds still wins).
    os.environ["DJANGO_SETTINGS_MODULE"] = "etrainer.settings.test"
    return (yield)


def pytest_unconfigure(config):
    if _server is not None:
        _server.cleanup()


def session_redis_server() -> RedisServer:
    assert _server is not None, "the redis plugin did not start a server"
    return _server
