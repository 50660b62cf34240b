"""Tests: fast hashing, but the real Redis cache (the test run starts its own redis-server).

The test plugin (testsupport/plugin.py) starts redis-server before these settings are read and
exports its URL as REDIS_URL; DATABASE_URL picks SQLite (default) or PostgreSQL.
"""

from etrainer.settings.base import *  # noqa: F403
from etrainer.settings.components.cache import REDIS_URL, redis_cache
from etrainer.settings.components.logging import LOGGING

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY  # noqa: F405
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# English by default, so that assertions read in English; the Vietnamese tests set the user's
# language or send Accept-Language (and override these to test the default itself).
DEFAULT_USER_LANGUAGE = "en"
LANGUAGE_CODE = "en"

# django-redis itself, without django-prometheus' counting subclass.
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}

CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True

MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "test-media")  # noqa: F405
LOGGING["root"]["level"] = "WARNING"

# SQLite's test database in memory, named so: pytest-django recognises only Django's own SQLite
# engine as in-memory, not django-prometheus' wrapper of it, and would otherwise give each xdist
# worker a file named after the path of var/db.sqlite3.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405
