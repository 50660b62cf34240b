import pytest
from django.db import connection

from etrainer.mongo_apps import MongoAdminConfig, MongoCeleryBeatConfig
from etrainer.settings.database import (
    MONGODB_AUTO_FIELD,
    SQL_AUTO_FIELD,
    MongoPoolOptions,
    database_config,
    installed_apps_for,
)


def test_sqlite_url_selects_sqlite_without_pooling_options():
    config = database_config("sqlite:////tmp/etr.sqlite3")

    default = config.databases["default"]
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["NAME"] == "/tmp/etr.sqlite3"
    assert "CONN_MAX_AGE" not in default
    assert config.default_auto_field == SQL_AUTO_FIELD
    assert config.migration_modules == {}
    assert not config.is_mongodb


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_url_selects_postgresql_with_persistent_checked_connections(scheme):
    config = database_config(f"{scheme}://app:secret@db.internal:6543/etrainer", conn_max_age=120)

    default = config.databases["default"]
    assert default["ENGINE"] == "django.db.backends.postgresql"
    assert (default["HOST"], default["PORT"], default["NAME"]) == ("db.internal", 6543, "etrainer")
    assert (default["USER"], default["PASSWORD"]) == ("app", "secret")
    assert default["CONN_MAX_AGE"] == 120
    assert default["CONN_HEALTH_CHECKS"] is True
    assert config.default_auto_field == SQL_AUTO_FIELD


@pytest.mark.parametrize(
    ("url", "expected_name"),
    [
        ("mongodb://mongo1:27017,mongo2:27017/etrainer?replicaSet=rs0", "etrainer"),
        (
            "mongodb+srv://user:pw@cluster0.example.mongodb.net/learning?retryWrites=true",
            "learning",
        ),
        ("mongodb://127.0.0.1:27017", "etrainer"),
    ],
)
def test_mongodb_url_selects_django_mongodb_backend(url, expected_name):
    config = database_config(url, mongo_pool=MongoPoolOptions(max_pool_size=30, min_pool_size=2))

    default = config.databases["default"]
    assert default["ENGINE"] == "django_mongodb_backend"
    assert default["HOST"] == url
    assert default["NAME"] == expected_name
    options = {k: v for k, v in default["OPTIONS"].items() if k != "event_listeners"}
    assert options == {
        "maxPoolSize": 30,
        "minPoolSize": 2,
        "serverSelectionTimeoutMS": 5000,
        "connectTimeoutMS": 5000,
        "socketTimeoutMS": 30000,
        "retryWrites": True,
    }
    assert config.default_auto_field == MONGODB_AUTO_FIELD
    assert config.is_mongodb


def test_mongodb_name_from_environment_wins_over_the_url_path():
    config = database_config("mongodb://h/etrainer", mongo_name="etrainer_staging")

    assert config.databases["default"]["NAME"] == "etrainer_staging"


def test_mongodb_selects_mongo_migration_modules_for_every_app_with_models():
    modules = database_config("mongodb://h/etrainer").migration_modules

    assert modules["accounts"] == "accounts.mongo_migrations"
    assert modules["subscriptions"] == "subscriptions.mongo_migrations"
    assert modules["admin"] == "etrainer.mongo_migrations.admin"
    assert modules["auth"] == "etrainer.mongo_migrations.auth"
    assert modules["contenttypes"] == "etrainer.mongo_migrations.contenttypes"
    assert modules["django_celery_beat"] == "etrainer.mongo_migrations.django_celery_beat"


def test_mongodb_swaps_contrib_apps_for_object_id_app_configs():
    sql_apps = installed_apps_for(is_mongodb=False)
    mongo_apps = installed_apps_for(is_mongodb=True)

    assert "django.contrib.admin" in sql_apps
    assert "etrainer.mongo_apps.MongoAdminConfig" in mongo_apps
    assert not any(app.startswith("django.contrib.") for app in mongo_apps)

    assert MongoAdminConfig.default_auto_field == MONGODB_AUTO_FIELD
    assert MongoCeleryBeatConfig.default_auto_field == MONGODB_AUTO_FIELD


@pytest.mark.parametrize(
    "url", ["postgres://app:secret@db.internal:5432/etrainer", "mongodb://h/e"]
)
def test_database_settings_hold_no_listener_objects(url):
    """The MongoDB metrics listeners are registered by the monitoring app, not built here."""
    config = database_config(url)

    assert "event_listeners" not in config.databases["default"].get("OPTIONS", {})


@pytest.mark.skipif(
    connection.vendor != "mongodb",
    reason="MongoDB only: SQL engines pool with CONN_MAX_AGE (tested above)",
)
@pytest.mark.django_db
def test_on_mongodb_the_pool_options_reach_the_live_client():
    client = connection.connection or (connection.ensure_connection() or connection.connection)

    pool = client.options.pool_options
    assert (pool.max_pool_size, pool.min_pool_size) == (20, 5)
    assert client.options.retry_writes is True
    assert client.options.server_selection_timeout == 5.0
    assert client.admin.command("hello")["setName"]  # a replica set: transactions need one
