"""Report (and on MongoDB create) the indexes every model declares; ``--check`` only reports.

Exit status 1 when an index is still missing afterwards: always with ``--check``, and on SQL
engines, where only migrations create indexes.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from monitoring.indexes import MONGODB, IndexState, IndexStatus, create_missing, index_report

HEADERS = ("model", "index", "fields", "state")
OK_STATES = {IndexState.PRESENT, IndexState.CREATED}


class Command(BaseCommand):
    help = "Check the indexes every model declares; create missing ones on MongoDB."
    # An operator needs the index report even while an unrelated system check fails.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="create nothing; exit 1 if any index is missing"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, check=False, database=DEFAULT_DB_ALIAS, **options):
        connection = connections[database]
        statuses = index_report(connection)
        if not check and connection.vendor == MONGODB:
            statuses = create_missing(connection, statuses)
        self.stdout.write(format_table(statuses))
        missing = [status for status in statuses if status.state not in OK_STATES]
        if missing:
            raise CommandError(self._missing_message(connection, len(missing)), returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{len(statuses)} indexes in place."))

    def _missing_message(self, connection, count: int) -> str:
        message = f"{count} declared indexes are missing."
        if connection.vendor == MONGODB:
            return f"{message} Run `manage.py ensure_indexes` without --check to create them."
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            return f"{message} {len(pending)} migrations not applied: run `manage.py migrate`."
        return f"{message} Every migration is applied: one is missing or an index was dropped."


def format_table(statuses: list[IndexStatus]) -> str:
    rows = [
        (
            s.declared.model._meta.label,
            s.declared.name,
            ", ".join(s.declared.fields),
            str(s.state),
        )
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]
    lines = [_line(HEADERS, widths), _line(["-" * w for w in widths], widths)]
    lines.extend(_line(row, widths) for row in rows)
    return "\n".join(lines)


def _line(cells, widths) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
