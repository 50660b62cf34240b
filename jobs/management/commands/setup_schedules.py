from django.core.management.base import BaseCommand

from jobs.schedules import setup_schedules


class Command(BaseCommand):
    help = (
        "Create or update the beat schedule (django-celery-beat) of the scheduled jobs. "
        "Idempotent; keeps schedules an operator changed in the admin unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="also restore the code's crontab, enable every entry and rewrite descriptions",
        )

    def handle(self, *args, reset: bool, **options):
        for change in setup_schedules(reset=reset):
            detail = f": {change.detail}" if change.detail else ""
            self.stdout.write(f"{change.job}: {change.action}{detail}")
