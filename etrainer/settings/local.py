"""Development: works with nothing set (SQLite, local-memory cache, eager tasks, console email)."""

from etrainer.settings.base import *  # noqa: F403
from etrainer.settings.base import env
from etrainer.settings.components.cache import REDIS_URL

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-not-for-production")
SIMPLE_JWT["SIGNING_KEY"] = env("JWT_SIGNING_KEY", default="") or SECRET_KEY  # noqa: F405
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [  # noqa: F405
    "rest_framework.renderers.JSONRenderer",
    "rest_framework.renderers.BrowsableAPIRenderer",
]

if not REDIS_URL:
    # No REDIS_URL: the single-process development server, where a per-process counter is shared
    # by every request. Production settings never silence this (a real shared cache is required).
    SILENCED_SYSTEM_CHECKS = ["ratelimit.E002"]
