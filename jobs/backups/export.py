"""Writing a backup (streamed, under a ``.partial`` name until complete) and pruning old ones."""

import gzip
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.db.models import Model
from django.utils import timezone

from jobs.backups.manifest import (
    FORMAT,
    MANIFEST,
    PARTIAL_SUFFIX,
    PREFIX,
    complete_backups,
    file_sha256,
    manifest_read,
)

logger = logging.getLogger("etrainer.jobs")


def _model_or_none(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        logger.warning("Backup: model %s does not exist (yet); skipped", label)
        return None


def _file_name(model: type[Model]) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}.jsonl.gz"


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
        "sha256": file_sha256(path),
    }


def _existing_backup(directory: Path, task_id: str) -> Path | None:
    if not task_id:
        return None
    for path in complete_backups(directory):
        if manifest_read(path).get("task_id") == task_id:
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
