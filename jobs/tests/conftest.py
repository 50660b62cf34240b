from pathlib import Path

import pytest

from accounts.models import User


@pytest.fixture(autouse=True)
def backup_dir(tmp_path, settings) -> Path:
    """Every jobs test backs up into its own directory, never into var/backups."""
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_KEEP = 3
    return settings.BACKUP_DIR


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The factories hash passwords; under etrainer.settings.test this is MD5 already, but the
    run may load other settings (see the report on DJANGO_SETTINGS_MODULE)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.com", "pw-for-tests-only")
