"""The ASGI app of the Origin test: the test settings with real host names instead of "*"."""

from etrainer.settings.test import *  # noqa: F403

ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
