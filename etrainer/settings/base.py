"""Settings shared by every environment; everything deployment-specific comes from the env.

Each area's settings live in ``etrainer/settings/components/`` and are imported here by name; this
file holds the core: hosts, apps, middleware, templates. Importing it reads the environment and
nothing else (no directory is made, no global object configured: see etrainer.apps).
"""

from etrainer.env import BASE_DIR, env
from etrainer.settings.components.accounts import (
    DEFAULT_USER_LANGUAGE,
    EMAIL_VERIFICATION_TIMEOUT,
    FRONTEND_PASSWORD_RESET_PATH,
    FRONTEND_URL,
    FRONTEND_VERIFY_EMAIL_PATH,
    PASSWORD_RESET_TIMEOUT,
)
from etrainer.settings.components.api import REST_FRAMEWORK, SIMPLE_JWT, SPECTACULAR_SETTINGS
from etrainer.settings.components.cache import (
    ACCESS_CACHE_REPLAY_SECONDS,
    ACCESS_CACHE_TTLS,
    ACCESS_SUMMARY_MEMO_SIZE,
    CACHE_KEY_PREFIX,
    CACHES,
    DJANGO_REDIS_IGNORE_EXCEPTIONS,
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS,
    REDIS_BREAKER_RESET_SECONDS,
    REDIS_CONNECT_TIMEOUT,
    REDIS_SOCKET_TIMEOUT,
    REDIS_URL,
    SESSION_ENGINE,
)
from etrainer.settings.components.celery import (
    CELERY_ACCEPT_CONTENT,
    CELERY_BEAT_SCHEDULER,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    CELERY_RESULT_BACKEND,
    CELERY_RESULT_SERIALIZER,
    CELERY_TASK_ACKS_LATE,
    CELERY_TASK_ALWAYS_EAGER,
    CELERY_TASK_EAGER_PROPAGATES,
    CELERY_TASK_IGNORE_RESULT,
    CELERY_TASK_REJECT_ON_WORKER_LOST,
    CELERY_TASK_SERIALIZER,
    CELERY_TASK_SOFT_TIME_LIMIT,
    CELERY_TASK_TIME_LIMIT,
    CELERY_TIMEZONE,
    CELERY_WORKER_CONCURRENCY,
    CELERY_WORKER_HIJACK_ROOT_LOGGER,
    CELERY_WORKER_PREFETCH_MULTIPLIER,
)
from etrainer.settings.components.database import (
    ADMIN_APP,
    AUTH_APP,
    CELERY_BEAT_APP,
    CONTENTTYPES_APP,
    DATABASE_URL,
    DATABASES,
    DEFAULT_AUTO_FIELD,
    IS_MONGODB,
    MIGRATION_MODULES,
    MONGODB_APPS,
)
from etrainer.settings.components.jobs import (
    BACKUP_BATCH_SIZE,
    BACKUP_DIR,
    BACKUP_KEEP,
    BACKUP_MODELS,
    BACKUP_THROTTLE_SECONDS,
    JOBS_LOCK_TTL_MARGIN,
    JOBS_MAX_RETRIES,
    JOBS_RETRY_BACKOFF,
    JOBS_RETRY_BACKOFF_MAX,
)
from etrainer.settings.components.learning import (
    DEFAULT_FROM_EMAIL,
    DEMO_LEARNER_EMAIL,
    DEMO_LEARNER_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_STAFF_PASSWORD,
    EMAIL_BACKEND,
    EXAM_HISTORY_RETENTION_DAYS,
    EXAM_TAKEN_AT_MAX_AGE_DAYS,
    NOTIFICATION_EMAIL_MAX_RETRIES,
    NOTIFICATION_EMAIL_REQUEUE_AFTER_SECONDS,
    NOTIFICATION_EMAIL_REQUEUE_MAX_AGE_HOURS,
    STREAK_MILESTONES,
)
from etrainer.settings.components.logging import LOG_FORMAT, LOG_LEVEL, LOGGING
from etrainer.settings.components.media import (
    CLOUDINARY_API_KEY,
    CLOUDINARY_API_SECRET,
    CLOUDINARY_CLOUD_NAME,
    CLOUDINARY_UPLOAD_PREFIX,
    CLOUDINARY_URL,
    DATA_UPLOAD_MAX_NUMBER_FILES,
    FILE_UPLOAD_HANDLERS,
    FILE_UPLOAD_MAX_MEMORY_SIZE,
    FILE_UPLOAD_TEMP_DIR,
    MEDIA_BACKEND,
    MEDIA_BREAKER_FAILURES,
    MEDIA_BREAKER_RESET_SECONDS,
    MEDIA_CLOUDINARY_CHUNK_SIZE,
    MEDIA_CLOUDINARY_TIMEOUT,
    MEDIA_FOLDER,
    MEDIA_ROOT,
    MEDIA_STATUS_CACHE_SECONDS,
    MEDIA_URL,
    STATIC_ROOT,
    STATIC_URL,
    STORAGES,
    UPLOAD_IMAGE_MAX_PIXELS,
)
from etrainer.settings.components.monitoring import (
    CACHE_DASHBOARD_SCAN_LIMIT,
    CELERY_PING_TIMEOUT_SECONDS,
    HEALTH_BROKER_TIMEOUT_SECONDS,
    HEALTH_CHECK_TIMEOUT_SECONDS,
    METRICS_ALLOWED_NETWORKS,
    METRICS_BEARER_TOKEN,
    METRICS_WORKER_BIND,
    PROMETHEUS_LATENCY_BUCKETS,
    SLOW_QUERY_MS,
    SLOW_REQUEST_MS,
)
from etrainer.settings.components.payments import (
    CURRENCY_BY_LANGUAGE,
    STRIPE_API_BASE,
    STRIPE_CHECKOUT_CANCEL_URL,
    STRIPE_CHECKOUT_SUCCESS_URL,
    STRIPE_DEV_CHECKOUT,
    STRIPE_SECRET_KEY,
    STRIPE_TIMEOUT_SECONDS,
    STRIPE_WEBHOOK_SECRET,
)
from etrainer.settings.components.realtime import (
    CHANNEL_LAYER_PREFIX,
    CHANNEL_LAYER_URL,
    CHANNEL_LAYERS,
    WEBSOCKET_URLPATTERNS,
    WS_AUTH_TIMEOUT_SECONDS,
    WS_HEARTBEAT_SECONDS,
    WS_MAX_CONNECTIONS_PER_USER,
)
from etrainer.settings.components.security import (
    AUTHENTICATION_BACKENDS,
    CORS_ALLOWED_ORIGINS,
    CORS_URLS_REGEX,
    RATELIMIT_ENABLE,
    RATELIMIT_FAIL_OPEN,
    RATELIMIT_LOGIN_FAILURES,
    RATELIMIT_LOGIN_FAILURES_ACCOUNT,
    RATELIMIT_LOGIN_FAILURES_ADDRESS,
    RATELIMIT_RATES,
    RATELIMIT_TRUSTED_PROXIES,
    RATELIMIT_USE_CACHE,
    SECRET_KEY,
    SILENCED_SYSTEM_CHECKS,
)

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

# The site's default language is the one new accounts get (DEFAULT_USER_LANGUAGE): anonymous
# requests whose Accept-Language names no supported language are answered in it. Signed-in users
# are answered in User.language whatever their Accept-Language says (etrainer.i18n).
LANGUAGE_CODE = DEFAULT_USER_LANGUAGE
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

DJANGO_APPS = [
    ADMIN_APP,
    AUTH_APP,
    CONTENTTYPES_APP,
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    CELERY_BEAT_APP,
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    *MONGODB_APPS,
    "django_prometheus",
    "corsheaders",
    "channels",
]
LOCAL_APPS = [
    "etrainer.apps.ProjectConfig",
    "accounts",
    "subscriptions",
    "learning",
    "notifications",
    "media",
    "jobs",
    "monitoring",
    "payments",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # Outermost, so that every response is counted with its status: the limiter's 429 and
    # fail-closed 503, the SSL redirect and host validation's 400 come from middleware further in.
    "monitoring.middleware.PrometheusMiddleware",
    "etrainer.middleware.RequestIdMiddleware",
    # Our request stats right inside the request id, so that slow-request lines carry it.
    "monitoring.middleware.RequestStatsMiddleware",
    # CORS before the limits: a 429 must still carry CORS headers for a browser to read it.
    "corsheaders.middleware.CorsMiddleware",
    "etrainer.ratelimit.RateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "etrainer.middleware.SessionMiddleware",
    # Accept-Language for anonymous requests (Content-Language, Vary: Accept-Language); the
    # authentication classes switch to the signed-in user's language (etrainer.i18n).
    "django.middleware.locale.LocaleMiddleware",
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
