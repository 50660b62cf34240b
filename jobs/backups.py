"""Backups of the critical tables: gzip JSON lines per model + a manifest (counts, sha256).

A backup is a directory ``backup-<UTC time>-<task id>`` holding one ``<app>_<model>.jsonl.gz``
per model (Django's ``jsonl`` serialization of the model's concrete fields) and ``manifest.json``.
It is written under a ``.partial`` name and renamed when complete, so a run killed half-way
leaves nothing that looks like a backup; the next run deletes such leftovers. Rows are streamed
with ``iterator()``: memory stays bounded whatever the table size.
"""

import gzip
import hashlib
import json
import logging
import shutil
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError
from django.db.models import Model
from django.utils import timezone

from etrainer.api.errors import ApplicationError
from etrainer.db import atomic

logger = logging.getLogger("etrainer.jobs")

MANIFEST = "manifest.json"
FORMAT = "etrainer-backup/1"
PREFIX = "backup-"
PARTIAL_SUFFIX = ".partial"
BACKUP_CORRUPTED = "backup_corrupted"
BACKUP_TARGET_NOT_EMPTY = "backup_target_not_empty"
BACKUP_INCOMPLETE = "backup_incomplete"
BACKUP_RESTORE_FAILED = "backup_restore_failed"


class BackupCorrupted(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(BACKUP_CORRUPTED, message, status=500)


def _model_or_none(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        logger.warning("Backup: model %s does not exist (yet); skipped", label)
        return None


def _file_name(model: type[Model]) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}.jsonl.gz"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows(model: type[Model], *, batch_size: int, throttle: float, count: list[int]) -> Iterator:
    for row in model._default_manager.order_by("pk").iterator(chunk_size=batch_size):
        count[0] += 1
        if throttle and count[0] % batch_size == 0:
            time.sleep(throttle)
        yield row


def _export(
    model: type[Model], directory: Path, *, batch_size: int, throttle: float
) -> dict[str, object]:
    """Concrete fields only: many-to-many fields would cost a query per row."""
    fields = [f.name for f in model._meta.local_concrete_fields if not f.primary_key]
    path = directory / _file_name(model)
    count = [0]
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        rows = _rows(model, batch_size=batch_size, throttle=throttle, count=count)
        serializers.serialize("jsonl", rows, stream=stream, fields=fields)
    return {
        "label": model._meta.label,
        "file": path.name,
        "count": count[0],
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
    }


def complete_backups(directory: Path) -> list[Path]:
    """Complete backups, newest first (names sort by their UTC time)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and p.name.startswith(PREFIX)]
    return sorted((p for p in found if (p / MANIFEST).is_file()), reverse=True)


def _existing_backup(directory: Path, task_id: str) -> Path | None:
    if not task_id:
        return None
    for path in complete_backups(directory):
        if _read_manifest(path).get("task_id") == task_id:
            return path
    return None


def _remove_partials(directory: Path) -> None:
    for path in directory.glob(f".{PREFIX}*{PARTIAL_SUFFIX}"):
        shutil.rmtree(path, ignore_errors=True)


def backup_create(
    *,
    directory: Path,
    labels: list[str],
    batch_size: int,
    task_id: str = "",
    throttle: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write one backup and return its path; a re-delivered task (same id) rewrites nothing."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = _existing_backup(directory, task_id)
    if existing is not None:
        return existing
    _remove_partials(directory)
    name = f"{PREFIX}{timezone.now():%Y%m%dT%H%M%S%fZ}-{(task_id or 'manual')[:8]}"
    partial = directory / f".{name}{PARTIAL_SUFFIX}"
    partial.mkdir(mode=0o700)
    entries, skipped = [], []
    for label in labels:
        model = _model_or_none(label)
        if model is None:
            skipped.append(label)
            continue
        entry = _export(model, partial, batch_size=batch_size, throttle=throttle)
        entries.append(entry)
        if progress:
            progress(entry["count"])
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "task_id": task_id,
        "models": entries,
        "skipped": skipped,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2))
    final = directory / name
    partial.rename(final)
    return final


def backup_prune(*, directory: Path, keep: int) -> list[Path]:
    removed = complete_backups(directory)[max(keep, 1) :]
    for path in removed:
        shutil.rmtree(path)
    return removed


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupCorrupted(f"{path}: manifest unreadable: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupCorrupted(f"{path}: not an {FORMAT} manifest")
    return manifest


def _count_json_lines(path: Path) -> int:
    lines = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            for line in stream:
                if line.strip():
                    json.loads(line)
                    lines += 1
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise BackupCorrupted(f"{path}: unreadable: {error}") from error
    return lines


def backup_verify(*, path: Path) -> dict:
    """Re-check every file against the manifest (sha256, gzip stream, JSON lines, counts)."""
    manifest = _read_manifest(path)
    for entry in manifest["models"]:
        file = path / entry["file"]
        if not file.is_file():
            raise BackupCorrupted(f"{file}: missing")
        if _sha256(file) != entry["sha256"]:
            raise BackupCorrupted(f"{file}: sha256 does not match the manifest")
        lines = _count_json_lines(file)
        if lines != entry["count"]:
            raise BackupCorrupted(f"{file}: {lines} rows, the manifest says {entry['count']}")
    return manifest


def _references(model: type[Model]) -> dict[str, type[Model]]:
    """Serialized field name -> model it points to, for every foreign key and one-to-one."""
    return {
        field.name: field.related_model
        for field in model._meta.local_concrete_fields
        if field.is_relation and field.related_model is not None
    }


def _in_load_order(models: list[type[Model]]) -> list[type[Model]]:
    """Referenced models before the models that point to them (within the backup)."""
    ordered: list[type[Model]] = []
    pending = list(models)
    while pending:
        ready = [
            m
            for m in pending
            if all(t in ordered or t not in pending or t is m for t in _references(m).values())
        ]
        if not ready:  # a cycle between tables: loaddata checks the constraints at the end anyway
            ready = pending[:1]
        ordered += ready
        pending = [m for m in pending if m not in ready]
    return ordered


def _json_rows(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                yield json.loads(line)


def _missing_references(path: Path, entries: list[tuple[type[Model], dict]]) -> list[str]:
    """Every reference a row of the backup makes that neither the backup nor the database holds.

    Checked before anything is written. The backup's own ids are read into memory (ids only);
    a reference to a table outside the backup must name a row the database already has.
    """
    in_backup = {model: set() for model, _ in entries}
    wanted: dict[type[Model], dict[str, str]] = {}  # target -> id -> first row that wants it
    for model, entry in entries:
        references = _references(model)
        for row in _json_rows(path / entry["file"]):
            in_backup[model].add(str(row.get("pk")))
            for name, target in references.items():
                value = row["fields"].get(name)
                if value is not None:
                    where = f"{model._meta.label} {row.get('pk')}.{name}"
                    wanted.setdefault(target, {}).setdefault(str(value), where)
    missing = []
    for target, ids in wanted.items():
        if target in in_backup:
            present = in_backup[target]
        else:
            found = target._default_manager.filter(pk__in=list(ids)).values_list("pk", flat=True)
            present = {str(pk) for pk in found}
        missing += [
            f"{where} -> {target._meta.label} {pk}"
            for pk, where in ids.items()
            if pk not in present
        ]
    return missing


def backup_restore(*, path: Path) -> dict[str, int]:
    """Load a verified backup into tables that are empty (a fresh database), all or nothing.

    Every reference is checked before anything is written; the load itself runs in one
    ``etrainer.db.atomic()`` block, so a failure half-way (a unique clash, a bad value) leaves
    the tables as they were and the restore can be tried again. ``loaddata`` streams JSON lines
    and resets SQL sequences after explicit ids; files of empty tables are not given to it (it
    warns "No fixture data found" for them).
    """
    manifest = backup_verify(path=path)
    by_model = {apps.get_model(entry["label"]): entry for entry in manifest["models"]}
    entries = [(model, by_model[model]) for model in _in_load_order(list(by_model))]
    not_empty = [m._meta.label for m, _ in entries if m._default_manager.exists()]
    if not_empty:
        raise ApplicationError(
            BACKUP_TARGET_NOT_EMPTY,
            f"Restore needs empty tables; these have rows: {', '.join(not_empty)}.",
            status=409,
        )
    missing = _missing_references(path, entries)
    if missing:
        shown = "; ".join(missing[:5]) + (
            f"; and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise ApplicationError(
            BACKUP_INCOMPLETE,
            f"Nothing was restored: the backup refers to rows it does not hold: {shown}.",
            status=409,
        )
    try:
        with atomic():
            for _, entry in entries:
                if entry["count"]:
                    call_command("loaddata", str(path / entry["file"]), verbosity=0)
    except (DatabaseError, DeserializationError) as error:
        raise ApplicationError(
            BACKUP_RESTORE_FAILED,
            f"Nothing was restored: loading {path} failed: {error}",
            status=409,
        ) from error
    return {model._meta.label: entry["count"] for model, entry in entries}
