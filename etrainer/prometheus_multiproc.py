"""The folder of prometheus_client's multiprocess mode, ready before any metric is defined."""

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def ensure_directory() -> None:
    """Create ``PROMETHEUS_MULTIPROC_DIR`` when it is set and missing.

    prometheus_client opens its per-process file there as soon as a module defines a metric (at
    import, while Django loads the apps), so a folder that did not exist yet crashed manage.py,
    Celery and uvicorn with a bare FileNotFoundError. gunicorn's ``on_starting`` creates it too.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not directory:
        return
    try:
        Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"PROMETHEUS_MULTIPROC_DIR={directory} does not exist and cannot be created "
            f"({error.strerror}); point it at a writable folder or unset it."
        ) from error


def use_private_directory_when_unset() -> str:
    """A web server's master picks the folder before its workers start (they inherit it)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="etrainer-prometheus-")
    return os.environ["PROMETHEUS_MULTIPROC_DIR"]


def reset_directory() -> Path:
    """Empty the folder of a previous run's files (they would be added in) before workers write.

    Only prometheus_client's own ``*.db`` files go, in case the variable names a shared folder.
    """
    directory = Path(use_private_directory_when_unset())
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return directory
