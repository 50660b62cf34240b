import pytest

from etrainer.celery import app as celery_app


@pytest.fixture
def emails_queued_not_run():
    """Count a job's own queries: its emails go to the (in-memory) broker, as they go to Redis in
    production, instead of being delivered eagerly inside the measured block once a batch commits
    (which happens on MongoDB, where the batch is a real transaction, and not inside the SQL
    test transaction). The messages are purged after the test: a later test reading the broker's
    queue must not find them."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = previous
    celery_app.control.purge()
