"""Backups of the critical tables: gzip JSON lines per model + a manifest (counts, sha256).

A backup is a directory ``backup-<UTC time>-<task id>`` holding one ``<app>_<model>.jsonl.gz``
per model (Django's ``jsonl`` serialization of the model's concrete fields) and ``manifest.json``.
It is written under a ``.partial`` name and renamed when complete, so a run killed half-way
leaves nothing that looks like a backup; the next run deletes such leftovers. Rows are streamed
with ``iterator()``: memory stays bounded whatever the table size.
"""

from jobs.backups.export import backup_create, backup_prune
from jobs.backups.manifest import (
    PARTIAL_SUFFIX,
    BackupCorrupted,
    backup_verify,
    complete_backups,
)
from jobs.backups.restore import backup_restore

__all__ = [
    "PARTIAL_SUFFIX",
    "BackupCorrupted",
    "backup_create",
    "backup_prune",
    "backup_restore",
    "backup_verify",
    "complete_backups",
]
