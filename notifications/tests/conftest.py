import kombu.pools
import pytest
import redis

from etrainer.celery import app as celery_app


def _forget_broker_connections() -> None:
    """Celery caches its broker connection and producer pools; drop them after a broker change.

    The pools live in kombu's process-wide groups (keyed by broker URL): ``kombu.pools.reset()``
    closes them and empties the groups, so later users get fresh pools rather than closed ones.
    """
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


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
