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
# Names the internal network reaches a replica by (Prometheus scrapes it as etrainer-app-1:8000):
# accepted besides the public DJANGO_ALLOWED_HOSTS.
INTERNAL_HOSTS = env.list("DJANGO_INTERNAL_HOSTS", default=[])
ALLOWED_HOSTS = [
    *env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"]),
    *INTERNAL_HOSTS,
]

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
DATABASE_URL = env("DATABASE_URL", default="")
if not DATABASE_URL:
    # The embedded default: a SQLite file in var/, which a fresh clone does not have yet.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
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
    "drf_spectacular_sidecar",
    *LOCAL_APPS,
]
if IS_MONGODB:
    INSTALLED_APPS.append("django_mongodb_backend")

MIDDLEWARE = [
    "etrainer.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "etrainer.middleware.SessionMiddleware",
    "etrainer.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "etrainer.middleware.AuthenticationMiddleware",
    "etrainer.middleware.MessageMiddleware",
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
        "etrainer.api.authentication.MemoizedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "etrainer.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "etrainer.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "etrainer.api.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "etrainer.api.schema.ProjectAutoSchema",
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
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "etrainer.api.schema.merge_identical_security_schemes",
    ],
    # Swagger UI from the installed drf-spectacular-sidecar: /api/docs works offline, pinned.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
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
# Keep LOGGING's handlers: hijacking empties the "celery" logger (propagate=False) = silent workers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
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

# --- accounts: sign-up, email verification, password reset (accounts/services/) ------------
# Links in account emails point at the frontend: FRONTEND_URL + path + ?key=… / ?uid=…&token=….
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
FRONTEND_VERIFY_EMAIL_PATH = env("FRONTEND_VERIFY_EMAIL_PATH", default="/verify-email")
FRONTEND_PASSWORD_RESET_PATH = env("FRONTEND_PASSWORD_RESET_PATH", default="/reset-password")
DEFAULT_USER_LANGUAGE = env("DEFAULT_USER_LANGUAGE", default="vi")
# Seconds a password reset link (Django's setting) and an email verification key stay valid.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 3600)
# --- end of accounts ---

# --- subscriptions ---
# Seconds each access-cache family lives (DESIGN.md §6); Plan edits bump a version instead.
ACCESS_CACHE_TTLS = {
    "sub": env.int("ACCESS_CACHE_SUB_TTL", default=300),
    "ai": env.int("ACCESS_CACHE_AI_TTL", default=60),
    "grants": env.int("ACCESS_CACHE_GRANTS_TTL", default=600),
    "course": env.int("ACCESS_CACHE_COURSE_TTL", default=600),
    "user": env.int("ACCESS_CACHE_USER_TTL", default=300),
}
# A cached entry is trusted only while invalidations Redis missed were replayed at most this long
# ago: the bound on how stale a deactivation, downgrade or revocation can be (subscriptions.cache).
ACCESS_CACHE_REPLAY_SECONDS = env.float("ACCESS_CACHE_REPLAY_SECONDS", default=5.0)

# --- learning / notifications ---
# How long exam histories are kept; the weekly cleanup job deletes older ones.
EXAM_HISTORY_RETENTION_DAYS = env.int("EXAM_HISTORY_RETENTION_DAYS", default=365)
# A client-reported exam ``taken_at`` may be at most this many days old (never in the future).
EXAM_TAKEN_AT_MAX_AGE_DAYS = env.int("EXAM_TAKEN_AT_MAX_AGE_DAYS", default=30)
# Streak lengths (days) that earn an email.
STREAK_MILESTONES = frozenset(env.list("STREAK_MILESTONES", cast=int, default=[7, 30, 100, 365]))
NOTIFICATION_EMAIL_MAX_RETRIES = env.int("NOTIFICATION_EMAIL_MAX_RETRIES", default=5)
# The requeue_unsent_emails job queues again an unsent email once it is this old (younger ones may
# still wait in the queue) and gives up on it past the max age (a reminder days late is noise).
NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS = env.int(
    "NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS", default=600
)
NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS = env.int(
    "NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS", default=72
)

# --- media ---
# Uploads always stream to a temporary file on disk: nothing holds a whole video in memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = env("MEDIA_UPLOAD_TEMP_DIR", default=None)
# Above the largest batch (5 images) so that 6-10 files get our own 400; more is Django's 400.
DATA_UPLOAD_MAX_NUMBER_FILES = 10
CLOUDINARY_URL = env("CLOUDINARY_URL", default="")
CLOUDINARY_CLOUD_NAME = env("CLOUDINARY_CLOUD_NAME", default="")
CLOUDINARY_API_KEY = env("CLOUDINARY_API_KEY", default="")
CLOUDINARY_API_SECRET = env("CLOUDINARY_API_SECRET", default="")
# Only for tests and proxies: where the SDK sends upload/destroy and Admin API calls.
CLOUDINARY_UPLOAD_PREFIX = env("CLOUDINARY_UPLOAD_PREFIX", default="")
MEDIA_BACKEND = env(
    "MEDIA_BACKEND",
    default="cloudinary" if (CLOUDINARY_URL or CLOUDINARY_CLOUD_NAME) else "local",
)
MEDIA_FOLDER = env("MEDIA_FOLDER", default="etrainer")
MEDIA_CLOUDINARY_TIMEOUT = env.float("MEDIA_CLOUDINARY_TIMEOUT", default=30.0)
MEDIA_CLOUDINARY_CHUNK_SIZE = env.int("MEDIA_CLOUDINARY_CHUNK_SIZE", default=5 * 1024 * 1024)
MEDIA_BREAKER_FAILURES = env.int("MEDIA_BREAKER_FAILURES", default=3)
MEDIA_BREAKER_RESET_SECONDS = env.float("MEDIA_BREAKER_RESET_SECONDS", default=30.0)
MEDIA_STATUS_CACHE_SECONDS = env.float("MEDIA_STATUS_CACHE_SECONDS", default=60.0)
# Images above this many pixels (width x height x frames) are refused before decoding: 25 MP
# covers a 6000x4000 photo; decoded, it is ~100 MB of RGBA in the worker.
UPLOAD_IMAGE_MAX_PIXELS = env.int("UPLOAD_IMAGE_MAX_PIXELS", default=25_000_000)

# --- jobs ---
# The lock of a run lives for the job's hard time limit + this margin; a SIGKILLed run's lock then
# expires before the broker re-delivers its message (CELERY_VISIBILITY_TIMEOUT must be longer).
JOBS_LOCK_TTL_MARGIN = env.int("JOBS_LOCK_TTL_MARGIN", default=60)
JOBS_MAX_RETRIES = env.int("JOBS_MAX_RETRIES", default=3)
JOBS_RETRY_BACKOFF = env.int("JOBS_RETRY_BACKOFF", default=30)
JOBS_RETRY_BACKOFF_MAX = env.int("JOBS_RETRY_BACKOFF_MAX", default=600)
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
BACKUP_BATCH_SIZE = env.int("BACKUP_BATCH_SIZE", default=2000)
# Seconds slept per batch: only the jobs smoke sets it, to make a real backup slow enough to kill.
BACKUP_THROTTLE_SECONDS = env.float("BACKUP_THROTTLE_SECONDS", default=0.0)
# Every table a backed-up row refers to is backed up too (a test holds this): a grant needs its
# course, or it cannot be restored into a fresh database.
BACKUP_MODELS = [
    "accounts.User",
    "subscriptions.Plan",
    "subscriptions.Subscription",
    "subscriptions.Course",
    "subscriptions.CourseGrant",
    "subscriptions.AiTokenAccount",
]

# --- monitoring ---
INSTALLED_APPS += ["django_prometheus"]
# A lean subclass of django-prometheus' after-middleware (its stock pair cost ~130 us/request:
# monitoring/middleware.py); our stats right inside the request id, so slow-request lines carry it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("etrainer.middleware.RequestIdMiddleware") + 1,
    "monitoring.middleware.RequestStatsMiddleware",
)
# Query metrics through django-prometheus' engine wrappers: SQL engines only (none for MongoDB).
_PROMETHEUS_DB_ENGINES = {
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
}
DATABASES["default"]["ENGINE"] = _PROMETHEUS_DB_ENGINES.get(
    DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"]
)
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A django-redis subclass: same OPTIONS, breaker connection class and IGNORE_EXCEPTIONS.
    CACHES["default"]["BACKEND"] = "django_prometheus.cache.backends.redis.RedisCache"
PROMETHEUS_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, float("inf"),
)  # fmt: skip
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN", default="")
# host:port where a Celery worker serves its own /metrics (job run counters); empty: off.
METRICS_WORKER_BIND = env("METRICS_WORKER_BIND", default="")
SLOW_REQUEST_MS = env.float("SLOW_REQUEST_MS", default=1000)
SLOW_QUERY_MS = env.float("SLOW_QUERY_MS", default=200)
HEALTH_CHECK_TIMEOUT_SECONDS = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=0.8)
HEALTH_BROKER_TIMEOUT_SECONDS = env.float("HEALTH_BROKER_TIMEOUT_SECONDS", default=0.5)
CELERY_PING_TIMEOUT_SECONDS = env.float("CELERY_PING_TIMEOUT_SECONDS", default=0.5)
CACHE_DASHBOARD_SCAN_LIMIT = env.int("CACHE_DASHBOARD_SCAN_LIMIT", default=10000)

# --- deployment ---
# Processes per Celery worker container (docker compose scales containers); unset = CPU count.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=None)

# --- security / rate limits ---
INSTALLED_APPS += ["corsheaders"]
# CORS first (a 429 must still carry CORS headers for a browser to read it), then the limits.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware"),
    "corsheaders.middleware.CorsMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware"),
    "etrainer.ratelimit.RateLimitMiddleware",
)
# Outermost, so that every response is counted with its status: the limiter's 429 and fail-closed
# 503, the SSL redirect and host validation's 400 are all returned by middleware further in.
MIDDLEWARE.insert(0, "monitoring.middleware.PrometheusMiddleware")
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = env.bool("RATELIMIT_FAIL_OPEN", default=True)
RATELIMIT_TRUSTED_PROXIES = env.list("RATELIMIT_TRUSTED_PROXIES", default=[])
RATELIMIT_RATES = {
    "auth": env("RATELIMIT_AUTH", default="10/m"),
    "uploads": env("RATELIMIT_UPLOADS", default="20/m"),
    "ai": env("RATELIMIT_AI", default="30/m"),
    "system": env("RATELIMIT_SYSTEM", default="60/m"),
    "default": env("RATELIMIT_DEFAULT", default="300/m"),
}
# Failed logins (accounts.login_limits): per (account, address), per account, per address.
RATELIMIT_LOGIN_FAILURES = env("RATELIMIT_LOGIN_FAILURES", default="5/15m")
RATELIMIT_LOGIN_FAILURES_ACCOUNT = env("RATELIMIT_LOGIN_FAILURES_ACCOUNT", default="50/15m")
RATELIMIT_LOGIN_FAILURES_ADDRESS = env("RATELIMIT_LOGIN_FAILURES_ADDRESS", default="30/15m")
AUTHENTICATION_BACKENDS = ["accounts.backends.RateLimitedModelBackend"]
SILENCED_SYSTEM_CHECKS = []

SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] = True
SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"] = True

# --- realtime ---
# WebSocket notifications (notifications/consumers.py) under the ASGI service. The channel layer is
# Redis pub/sub (one PUBLISH per notification, fan-out in each ASGI process); the in-memory layer
# only under the embedded default, where one process is the whole system.
INSTALLED_APPS += ["channels"]
CHANNEL_LAYER_URL = env("CHANNEL_LAYER_URL", default="") or REDIS_URL
CHANNEL_LAYER_PREFIX = f"{CACHE_KEY_PREFIX}:ws"
if CHANNEL_LAYER_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [CHANNEL_LAYER_URL], "prefix": CHANNEL_LAYER_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
WS_MAX_CONNECTIONS_PER_USER = env.int("WS_MAX_CONNECTIONS_PER_USER", default=5)
WS_HEARTBEAT_SECONDS = env.float("WS_HEARTBEAT_SECONDS", default=25.0)
WS_AUTH_TIMEOUT_SECONDS = env.float("WS_AUTH_TIMEOUT_SECONDS", default=10.0)

# --- payments (Stripe) ---
INSTALLED_APPS += ["payments"]
if IS_MONGODB:
    MIGRATION_MODULES["payments"] = "payments.mongo_migrations"
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Only for tests and local proxies: where the SDK sends API calls (default: Stripe's own).
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
# Where Stripe Checkout sends the learner back ({CHECKOUT_SESSION_ID} is filled in by Stripe).
STRIPE_CHECKOUT_SUCCESS_URL = env(
    "STRIPE_CHECKOUT_SUCCESS_URL",
    default="http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
)
STRIPE_CHECKOUT_CANCEL_URL = env(
    "STRIPE_CHECKOUT_CANCEL_URL", default="http://localhost:3000/billing/cancelled"
)
# Development only: without Stripe keys, checkout is a local page that completes by sending the
# same signed event to the webhook. production.py refuses to start with it on.
STRIPE_DEV_CHECKOUT = env.bool("STRIPE_DEV_CHECKOUT", default=not STRIPE_SECRET_KEY)
if STRIPE_DEV_CHECKOUT and not STRIPE_WEBHOOK_SECRET:
    STRIPE_WEBHOOK_SECRET = "whsec_local_development_only"  # noqa: S105
