"""Turn ``DATABASE_URL`` into Django's database settings for SQLite, PostgreSQL or MongoDB.

MongoDB (django-mongodb-backend) differs from the SQL engines in three ways that must be set
together: ObjectId primary keys, AppConfigs for contrib/third-party apps that declare their own
auto field, and migration modules generated for that engine (``mongo_migrations``).
Pure functions of their arguments: no app is imported (the MongoDB metrics listeners are registered
with pymongo by the monitoring app at start-up).
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import environ

MONGODB_SCHEMES = ("mongodb", "mongodb+srv")
SQL_AUTO_FIELD = "django.db.models.BigAutoField"
MONGODB_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"

# Query metrics through django-prometheus' engine wrappers: SQL engines only (none for MongoDB).
PROMETHEUS_DB_ENGINES = {
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
}

# Our apps keep their MongoDB migrations beside the SQL ones.
LOCAL_APPS = [
    "accounts",
    "subscriptions",
    "learning",
    "notifications",
    "media",
    "jobs",
    "monitoring",
    "payments",
]

# Contrib and third-party apps with models: (SQL app entry, MongoDB AppConfig, app label).
APPS_WITH_MONGO_CONFIG = [
    ("django.contrib.admin", "etrainer.mongo_apps.MongoAdminConfig", "admin"),
    ("django.contrib.auth", "etrainer.mongo_apps.MongoAuthConfig", "auth"),
    ("django.contrib.contenttypes", "etrainer.mongo_apps.MongoContentTypesConfig", "contenttypes"),
    ("django_celery_beat", "etrainer.mongo_apps.MongoCeleryBeatConfig", "django_celery_beat"),
]


@dataclass(frozen=True)
class MongoPoolOptions:
    max_pool_size: int = 20
    min_pool_size: int = 5
    server_selection_timeout_ms: int = 5000
    connect_timeout_ms: int = 5000
    socket_timeout_ms: int = 30000
    retry_writes: bool = True

    def as_client_options(self) -> dict:
        return {
            "maxPoolSize": self.max_pool_size,
            "minPoolSize": self.min_pool_size,
            "serverSelectionTimeoutMS": self.server_selection_timeout_ms,
            "connectTimeoutMS": self.connect_timeout_ms,
            "socketTimeoutMS": self.socket_timeout_ms,
            "retryWrites": self.retry_writes,
        }


@dataclass(frozen=True)
class DatabaseConfig:
    databases: dict
    default_auto_field: str
    is_mongodb: bool
    migration_modules: dict = field(default_factory=dict)


def is_mongodb_url(url: str) -> bool:
    return urlsplit(url).scheme in MONGODB_SCHEMES


def database_config(
    url: str,
    *,
    mongo_name: str = "",
    mongo_pool: MongoPoolOptions | None = None,
    conn_max_age: int = 60,
    conn_health_checks: bool = True,
    prometheus_engines: bool = False,
) -> DatabaseConfig:
    if is_mongodb_url(url):
        return _mongodb_config(url, mongo_name, mongo_pool or MongoPoolOptions())
    default = environ.Env.db_url_config(url)
    if default["ENGINE"] != "django.db.backends.sqlite3":
        default["CONN_MAX_AGE"] = conn_max_age
        default["CONN_HEALTH_CHECKS"] = conn_health_checks
    if prometheus_engines:
        default["ENGINE"] = PROMETHEUS_DB_ENGINES.get(default["ENGINE"], default["ENGINE"])
    return DatabaseConfig(
        databases={"default": default}, default_auto_field=SQL_AUTO_FIELD, is_mongodb=False
    )


def _mongodb_config(url: str, mongo_name: str, pool: MongoPoolOptions) -> DatabaseConfig:
    name = mongo_name or urlsplit(url).path.lstrip("/") or "etrainer"
    default = {
        "ENGINE": "django_mongodb_backend",
        # The connection string goes in HOST; parse_uri() is deprecated by the backend.
        "HOST": url,
        "NAME": name,
        "OPTIONS": pool.as_client_options(),
    }
    return DatabaseConfig(
        databases={"default": default},
        default_auto_field=MONGODB_AUTO_FIELD,
        is_mongodb=True,
        migration_modules=mongo_migration_modules(),
    )


def mongo_migration_modules() -> dict:
    modules = {label: f"{label}.mongo_migrations" for label in LOCAL_APPS}
    for _, _, label in APPS_WITH_MONGO_CONFIG:
        modules[label] = f"etrainer.mongo_migrations.{label}"
    return modules


def installed_apps_for(is_mongodb: bool) -> list[str]:
    """Contrib and third-party apps with models, as SQL entries or as their MongoDB AppConfigs."""
    return [mongo if is_mongodb else sql for sql, mongo, _ in APPS_WITH_MONGO_CONFIG]
