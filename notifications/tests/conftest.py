import kombu.pools
import pytest
import redis

from etrainer.celery import app as celery_app
from testsupport.processes import free_port


def _forget_broker_connections() -> None:
    """Celery caches its broker connection and producer pools; drop them after a broker change.

    The pools live in kombu's process-wide groups (keyed by broker URL): ``kombu.pools.reset()``
    closes them and empties the groups, so later users get fresh pools rather than closed ones.
    """
    kombu.pools.reset()
    # Celery has no public call that forgets its cached pools without deregistering the app
    # (``Celery.close``); until a fixture owns a broker whose URL never changes, reset them here.
    celery_app._pool = None  # noqa: SLF001
    celery_app.amqp._producer_pool = None  # noqa: SLF001


@pytest.fixture
def celery_redis_broker(redis_server):
    """Celery configured as in production, not eager, its broker on the run's redis-server (db 15).

    Yields a Redis client on that database, so a test can see what landed in the queue.
    """
    url = redis_server.url.rsplit("/", 1)[0] + "/15"
    client = redis.Redis.from_url(url)
    client.flushdb()
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    _forget_broker_connections()
    yield client
    celery_app.conf.update(saved)
    _forget_broker_connections()
    client.flushdb()
    client.close()


class BrokerOutage:
    """Points Celery at a loopback port nobody listens on, and back: publishing then fails the way
    it does when Redis goes away (connection refused, raised by kombu as OperationalError)."""

    def __init__(self, working_url: str) -> None:
        self.working_url = working_url

    def start(self) -> None:
        celery_app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
        _forget_broker_connections()

    def end(self) -> None:
        celery_app.conf.broker_url = self.working_url
        _forget_broker_connections()


@pytest.fixture
def broker_outage(celery_redis_broker):
    """A broker (as ``celery_redis_broker``) that a test can take down and bring back."""
    outage = BrokerOutage(celery_app.conf.broker_url)
    yield outage
    outage.end()
