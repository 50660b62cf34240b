"""Restoring a verified backup into empty tables, all or nothing."""

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.core.serializers.base import DeserializationError
from django.db import DatabaseError
from django.db.models import Model
from django.utils.translation import gettext

from etrainer.api.errors import ApplicationError
from etrainer.db import atomic
from jobs.backups.manifest import (
    BACKUP_INCOMPLETE,
    BACKUP_RESTORE_FAILED,
    BACKUP_TARGET_NOT_EMPTY,
    backup_verify,
)


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
            gettext("Restore needs empty tables; these have rows: %(tables)s.")
            % {"tables": ", ".join(not_empty)},
            status=409,
        )
    missing = _missing_references(path, entries)
    if missing:
        shown = "; ".join(missing[:5]) + (
            f"; and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise ApplicationError(
            BACKUP_INCOMPLETE,
            gettext("Nothing was restored: the backup refers to rows it does not hold: %(rows)s.")
            % {"rows": shown},
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
            gettext("Nothing was restored: loading %(path)s failed: %(error)s")
            % {"path": path, "error": error},
            status=409,
        ) from error
    return {model._meta.label: entry["count"] for model, entry in entries}
