from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from etrainer.api.errors import ApplicationError
from jobs.backups import backup_restore


class Command(BaseCommand):
    help = "Verify a backup, then load it into a database whose backed-up tables are empty."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            counts = backup_restore(path=path)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} rows restored")
        self.stdout.write(self.style.SUCCESS(f"Restored {path}"))
