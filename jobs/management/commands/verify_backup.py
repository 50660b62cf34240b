from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jobs.backups import BackupCorrupted, backup_verify


class Command(BaseCommand):
    help = "Re-check a backup directory against its manifest; exits non-zero if it is corrupted."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            manifest = backup_verify(path=path)
        except BackupCorrupted as error:
            raise CommandError(f"CORRUPTED: {error.message}") from error
        for entry in manifest["models"]:
            self.stdout.write(f"{entry['label']}: {entry['count']} rows, sha256 ok")
        for label in manifest["skipped"]:
            self.stdout.write(f"{label}: not in this backup (model did not exist)")
        self.stdout.write(self.style.SUCCESS(f"OK {path}"))
