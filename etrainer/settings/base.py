"""Settings shared by every environment; everything deployment-specific comes from the env."""

from datetime import timedelta

from etrainer.env import BASE_DIR, env
from etrainer.logging import logging_config
from etrainer.settings.database import (
    LOCAL_APPS,
    MongoPoolOptions,
    database_config,
    installed_apps_for,
)

# --- Core -------------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

ROOT_URLCONF = "etrainer.urls"
WSGI_APPLICATION = "etrainer.wsgi.application"
ASGI_APPLICATION = "etrainer.asgi.application"
AUTH_USER_MODEL = "accounts.User"
CSRF_FAILURE_VIEW = "etrainer.api.views.csrf_failure"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Databases (DATABASE_URL picks SQLite, PostgreSQL or MongoDB) -----------------------------
DATABASE_URL = env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
_database = database_config(
    DATABASE_URL,
    mongo_name=env("MONGODB_NAME", default=""),
    mongo_pool=MongoPoolOptions(
        max_pool_size=env.int("MONGODB_MAX_POOL_SIZE", default=20),
        min_pool_size=env.int("MONGODB_MIN_POOL_SIZE", default=5),
        server_selection_timeout_ms=env.int("MONGODB_SERVER_SELECTION_TIMEOUT_MS", default=5000),
        connect_timeout_ms=env.int("MONGODB_CONNECT_TIMEOUT_MS", default=5000),
        socket_timeout_ms=env.int("MONGODB_SOCKET_TIMEOUT_MS", default=30000),
        retry_writes=env.bool("MONGODB_RETRY_WRITES", default=True),
    ),
    conn_max_age=env.int("DB_CONN_MAX_AGE", default=60),
    conn_health_checks=env.bool("DB_CONN_HEALTH_CHECKS", default=True),
)
DATABASES = _database.databases
DEFAULT_AUTO_FIELD = _database.default_auto_field
MIGRATION_MODULES = _database.migration_modules
IS_MONGODB = _database.is_mongodb

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    *installed_apps_for(IS_MONGODB),
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    *LOCAL_APPS,
]
if IS_MONGODB:
    INSTALLED_APPS.append("django_mongodb_backend")

MIDDLEWARE = [
    "etrainer.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "etrainer" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Static and media files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Cache (Redis when REDIS_URL is set, else process-local memory) ---------------------------
REDIS_URL = env("REDIS_URL", default="")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="etr")
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.25)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.25)
REDIS_BREAKER_RESET_SECONDS = env.float("REDIS_BREAKER_RESET_SECONDS", default=5.0)


def redis_cache(url: str) -> dict:
    """django-redis on a circuit-broken connection: a dead or hung Redis degrades to misses."""
    from etrainer.redis_breaker import CircuitBreakerConnection, configure_breaker

    configure_breaker(REDIS_BREAKER_RESET_SECONDS)
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "CONNECTION_POOL_KWARGS": {
                "connection_class": CircuitBreakerConnection,
                "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=50),
            },
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "etrainer",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
# The breaker logs once per outage; a traceback per cache call would flood the log.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

# Sessions (admin, browsable API) never live in process memory.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Django REST framework, JWT, OpenAPI ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "etrainer.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "etrainer.api.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if env.bool("DJANGO_BROWSABLE_API", default=False):
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ETrainer API",
    "DESCRIPTION": "Subscriptions, course access, AI tokens, exams, streaks and notifications.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
}

# --- Celery (no broker configured: tasks run eagerly in-process) -------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Longer than the longest hard time limit, so a running job is never delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200),
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="ETrainer <no-reply@etrainer.local>")

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env("DJANGO_LOG_LEVEL", default="INFO")
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="text")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)


# --- Demo accounts created by `make run` on an empty database ----------------------------------
DEMO_STAFF_EMAIL = env("DEMO_STAFF_EMAIL", default="admin@etrainer.local")
DEMO_STAFF_PASSWORD = env("DEMO_STAFF_PASSWORD", default="")
DEMO_LEARNER_EMAIL = env("DEMO_LEARNER_EMAIL", default="learner@etrainer.local")
DEMO_LEARNER_PASSWORD = env("DEMO_LEARNER_PASSWORD", default="")

# --- App sections: each app's settings in its own block (INSTALLED_APPS += [...] there) ------

# --- subscriptions ---

# --- learning / notifications ---

# --- media ---

# --- jobs ---

# --- monitoring ---

# --- deployment ---

# --- security / rate limits ---
