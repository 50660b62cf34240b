import pytest
import redis
from celery import Celery

from etrainer.celery import app as celery_app
from testsupport.processes import free_port


def project_celery_on(broker_url: str) -> Celery:
    """A Celery app configured as the project's, not eager, publishing to ``broker_url``, made the
    current and default app (shared tasks and ``current_app`` resolve to it).

    A fresh app has fresh connection and producer pools, so nothing cached for another broker is
    reused; the project's app is never reconfigured, so its own pools stay valid.
    """
    app = Celery("etrainer-test")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    app.set_current()
    app.set_default()
    return app


def back_to_the_project_celery(app: Celery) -> None:
    app.close()
    celery_app.set_current()
    celery_app.set_default()


@pytest.fixture
def broker_app(redis_server):
    """The app ``celery_redis_broker`` publishes with, and a Redis client on its database."""
    url = redis_server.url.rsplit("/", 1)[0] + "/15"
    client = redis.Redis.from_url(url)
    client.flushdb()
    app = project_celery_on(url)
    yield app, client
    back_to_the_project_celery(app)
    client.flushdb()
    client.close()


@pytest.fixture
def celery_redis_broker(broker_app):
    """Celery configured as in production, not eager, its broker on the run's redis-server (db 15).

    Yields a Redis client on that database, so a test can see what landed in the queue.
    """
    return broker_app[1]


class BrokerOutage:
    """Moves publishing to a loopback port nobody listens on, and back: publishing then fails the
    way it does when Redis goes away (connection refused, raised by kombu as OperationalError)."""

    def __init__(self, working: Celery) -> None:
        self.working = working
        self.down: Celery | None = None

    def start(self) -> None:
        self.down = project_celery_on(f"redis://127.0.0.1:{free_port()}/0")

    def end(self) -> None:
        if self.down is not None:
            self.down.close()
            self.down = None
        self.working.set_current()
        self.working.set_default()


@pytest.fixture
def broker_outage(broker_app, celery_redis_broker):
    """A broker (as ``celery_redis_broker``) that a test can take down and bring back."""
    outage = BrokerOutage(broker_app[0])
    yield outage
    outage.end()
