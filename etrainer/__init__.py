from etrainer import prometheus_multiproc

# Every process (manage.py, gunicorn, uvicorn, Celery) imports this package before Django loads
# the apps that define metrics.
prometheus_multiproc.ensure_directory()

from etrainer.celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
