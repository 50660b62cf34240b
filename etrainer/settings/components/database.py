"""Databases: ``DATABASE_URL`` picks SQLite (the default), PostgreSQL or MongoDB (DESIGN.md §3)."""

from etrainer.env import BASE_DIR, env
from etrainer.settings.database import MongoPoolOptions, database_config, installed_apps_for

# The embedded default: a SQLite file in var/. Its directory is made at start-up, not here
# (etrainer.apps.ProjectConfig.ready), so that importing the settings writes nothing.
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"

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
    prometheus_engines=True,
)
DATABASES = _database.databases
DEFAULT_AUTO_FIELD = _database.default_auto_field
MIGRATION_MODULES = _database.migration_modules
IS_MONGODB = _database.is_mongodb

# Contrib and third-party apps with models: their own AppConfigs on SQL, ObjectId ones on MongoDB.
ADMIN_APP, AUTH_APP, CONTENTTYPES_APP, CELERY_BEAT_APP = installed_apps_for(IS_MONGODB)
MONGODB_APPS = ["django_mongodb_backend"] if IS_MONGODB else []
