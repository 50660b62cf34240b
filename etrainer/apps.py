"""Start-up wiring of the project package, done when Django starts, not when settings load."""

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings

from etrainer.redis_breaker import configure_breaker


class ProjectConfig(AppConfig):
    name = "etrainer"
    label = "etrainer"
    verbose_name = "ETrainer"

    def ready(self):
        configure_breaker(settings.REDIS_BREAKER_RESET_SECONDS)
        make_sqlite_directory(settings.DATABASES["default"])


def make_sqlite_directory(database: dict) -> None:
    """The embedded default's file is var/db.sqlite3, and a fresh clone has no var/ yet."""
    name = str(database.get("NAME", ""))
    if database["ENGINE"].endswith("sqlite3") and name and not name.startswith((":", "file:")):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
