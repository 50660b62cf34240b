"""The folder of prometheus_client's multiprocess mode, ready before any metric is defined."""

import os
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
