"""The backup format: its manifest, where complete backups are, and checking one end to end."""

import gzip
import hashlib
import json
import zlib
from pathlib import Path

from etrainer.api.errors import ApplicationError

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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def complete_backups(directory: Path) -> list[Path]:
    """Complete backups, newest first (names sort by their UTC time)."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and p.name.startswith(PREFIX)]
    return sorted((p for p in found if (p / MANIFEST).is_file()), reverse=True)


def manifest_read(path: Path) -> dict:
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
    manifest = manifest_read(path)
    for entry in manifest["models"]:
        file = path / entry["file"]
        if not file.is_file():
            raise BackupCorrupted(f"{file}: missing")
        if file_sha256(file) != entry["sha256"]:
            raise BackupCorrupted(f"{file}: sha256 does not match the manifest")
        lines = _count_json_lines(file)
        if lines != entry["count"]:
            raise BackupCorrupted(f"{file}: {lines} rows, the manifest says {entry['count']}")
    return manifest
