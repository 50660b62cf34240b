"""Checks that need their own settings run manage.py in a child process."""

import pytest
from django.core.management import call_command

from etrainer.tests.subprocess_env import ROOT, env_file, manage, production_env

pytestmark = pytest.mark.slow

MONGO_URL = "mongodb://127.0.0.1:1/etrainer?serverSelectionTimeoutMS=200"


@pytest.mark.django_db
def test_sql_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_mongo_migrations_exist_and_match_the_models():
    result = manage(
        "makemigrations", "--check", "--dry-run",
        env={"DJANGO_SETTINGS_MODULE": "etrainer.settings.mongo_offline"},
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_mongo_migrations_use_object_ids_only():
    for path in [
        *ROOT.glob("*/mongo_migrations/0*.py"),
        *ROOT.glob("etrainer/mongo_migrations/*/0*.py"),
    ]:
        text = path.read_text()
        assert "BigAutoField" not in text, path
        assert "models.AutoField" not in text, path


def test_mongodb_backend_model_checks_pass_without_a_server():
    result = manage("check", "--database", "default", env={"DATABASE_URL": MONGO_URL})

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_environment_passes_the_deploy_check(tmp_path):
    env = production_env(tmp_path)

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = env_file(ROOT / ".env.production.example")
    del env["DJANGO_SECRET_KEY"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_settings_refuse_local_media_without_a_media_root(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_MEDIA_ROOT"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_MEDIA_ROOT is not set" in result.stderr


def test_production_settings_refuse_the_media_apps_code_as_media_root(tmp_path):
    env = production_env(tmp_path)
    env["DJANGO_MEDIA_ROOT"] = str(ROOT / "media")

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "is the media app's code" in result.stderr


def test_production_settings_with_cloudinary_need_no_media_root(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_MEDIA_ROOT"]
    env["CLOUDINARY_URL"] = "cloudinary://key:secret@demo-cloud"

    result = manage("check", env=env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_manage_py_creates_a_prometheus_multiproc_dir_that_does_not_exist_yet(tmp_path):
    directory = tmp_path / "not" / "yet" / "prometheus"

    result = manage("check", env={"PROMETHEUS_MULTIPROC_DIR": str(directory)})

    assert result.returncode == 0, result.stdout + result.stderr
    assert directory.is_dir()


def test_an_uncreatable_prometheus_multiproc_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = manage("check", env={"PROMETHEUS_MULTIPROC_DIR": str(blocker / "prometheus")})

    assert result.returncode != 0
    assert f"PROMETHEUS_MULTIPROC_DIR={blocker / 'prometheus'} does not exist" in result.stderr
