"""Real-time delivery of notifications: the publisher (any process) and the connection registry.

``notify()`` calls ``notification_publish`` after storing a row; once the transaction commits, the
notification goes to the channel layer group ``user.<id>`` that every WebSocket connection of that
user joined (``notifications.consumers``), in whichever ASGI process it lives.

On Redis (``channels_redis.pubsub.RedisPubSubChannelLayer``) a group send is one Redis PUBLISH.
From the sync REST and Celery processes we publish it with redis-py on a persistent pool (short
timeouts, the process's circuit breaker) instead of ``async_to_sync(group_send)``, which would
build an event loop, a connection pool and a TCP connection for every notification. The message
bytes come from the layer's own ``serialize()``; the Redis channel name is the layer's group name
scheme (``<prefix>__group__<group>``), checked end to end by notifications/tests/test_realtime_*.
Without Redis (the embedded default) the in-memory layer is used through ``group_send``.

Publishing never fails ``notify()``: an error is logged and counted (``etrainer_ws_send_failures``).
"""

import asyncio
import logging
import time
import weakref
from urllib.parse import urlparse

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from redis import asyncio as aioredis

from etrainer.metrics import record_ws_send_failure
from etrainer.redis_breaker import CircuitBreakerConnection
from notifications.models import is_private_kind
from notifications.serializers import NotificationOutputSerializer

logger = logging.getLogger(__name__)

GROUP_PREFIX = "user."
MESSAGE_TYPE = "notification.push"


def user_group(user_id) -> str:
    """Group names allow ASCII letters, digits, '-', '_' and '.': ids (ints, ObjectIds) fit."""
    return f"{GROUP_PREFIX}{user_id}"


def notification_representation(notification) -> dict:
    """The REST representation (``GET /api/notifications``), so clients parse one shape."""
    return dict(NotificationOutputSerializer(notification).data)


def notification_publish(*, notification) -> None:
    """Push ``notification`` to its user's connections once the surrounding transaction commits."""
    if is_private_kind(notification.kind):
        return
    user_id = notification.user_id
    try:
        event = {"type": MESSAGE_TYPE, "notification": notification_representation(notification)}
    except Exception:
        logger.exception("Could not serialize notification %s for push", notification.pk)
        record_ws_send_failure("publish")
        return
    transaction.on_commit(lambda: group_publish(group=user_group(user_id), event=event))


def notifications_publish(*, notifications) -> None:
    """The bulk form (e.g. for ``notifications_create_many``): after commit, every stored one in
    one pipelined round trip on Redis."""
    batch = []
    for notification in notifications:
        if notification.pk is None or is_private_kind(notification.kind):
            continue
        try:
            event = {
                "type": MESSAGE_TYPE,
                "notification": notification_representation(notification),
            }
        except Exception:
            logger.exception("Could not serialize notification %s for push", notification.pk)
            record_ws_send_failure("publish")
            continue
        batch.append((user_group(notification.user_id), event))
    if batch:
        transaction.on_commit(lambda: groups_publish(batch=batch))


def groups_publish(*, batch: list[tuple[str, dict]]) -> bool:
    try:
        _publisher().publish_many(batch)
    except Exception:
        logger.exception("Could not publish %s notifications", len(batch))
        record_ws_send_failure("publish", len(batch))
        return False
    return True


def group_publish(*, group: str, event: dict) -> bool:
    try:
        _publisher().publish(group, event)
    except Exception:
        logger.exception("Could not publish %s to %s", event.get("type"), group)
        record_ws_send_failure("publish")
        return False
    return True


class RedisGroupPublisher:
    """One PUBLISH per group send, on a process-wide redis-py pool (fork-safe: redis-py resets
    a pool inherited from a parent process)."""

    def __init__(self, layer, url: str, prefix: str) -> None:
        self.layer = layer
        self.prefix = prefix
        options = {
            "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
            "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        }
        if urlparse(url).scheme == "redis":
            options["connection_class"] = CircuitBreakerConnection
        self.client = redis.Redis.from_url(url, **options)

    def publish(self, group: str, event: dict) -> None:
        self.client.publish(self._channel(group), self.layer.serialize(event))

    def publish_many(self, batch: list[tuple[str, dict]]) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for group, event in batch:
                pipe.publish(self._channel(group), self.layer.serialize(event))
            pipe.execute()

    def _channel(self, group: str) -> str:
        return f"{self.prefix}__group__{group}"


class LayerGroupPublisher:
    """Any other channel layer (the in-memory one of the embedded default)."""

    def __init__(self, layer) -> None:
        self.layer = layer

    def publish(self, group: str, event: dict) -> None:
        async_to_sync(self.layer.group_send)(group, event)

    def publish_many(self, batch: list[tuple[str, dict]]) -> None:
        async def send_all():
            for group, event in batch:
                await self.layer.group_send(group, event)

        async_to_sync(send_all)()


_publishers: dict[int, object] = {}


def _publisher():
    layer = get_channel_layer()
    publisher = _publishers.get(id(layer))
    if publisher is None:
        url = settings.CHANNEL_LAYER_URL
        if url and layer.__class__.__name__ == "RedisPubSubChannelLayer":
            publisher = RedisGroupPublisher(layer, url, settings.CHANNEL_LAYER_PREFIX)
        else:
            publisher = LayerGroupPublisher(layer)
        _publishers.clear()
        _publishers[id(layer)] = publisher
    return publisher


# --- the per-user connection cap, shared by every ASGI process ---------------------------------

# Drops leases past their expiry (a crashed process never released them), then takes one if the
# user holds fewer than the cap. Atomic in Redis, so two processes never both take the last slot.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisConnectionRegistry:
    """Per user, a sorted set of connection ids scored by lease expiry; heartbeats renew leases."""

    def __init__(self, url: str, prefix: str, lease_seconds: float) -> None:
        self.url = url
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self):
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(
                self.url,
                socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
                socket_timeout=max(settings.REDIS_SOCKET_TIMEOUT, 1.0),
            )
            self._clients[loop] = client
        return client

    def _key(self, user_id: str) -> str:
        return f"{self.prefix}:ws:conns:{user_id}"

    async def acquire(self, user_id: str, connection_id: str, cap: int) -> bool:
        now = time.time()
        taken = await self._client().eval(
            _ACQUIRE, 1, self._key(user_id), now, now + self.lease_seconds, cap,
            connection_id, int(self.lease_seconds) + 1,
        )  # fmt: skip
        return bool(taken)

    async def renew(self, user_id: str, connection_id: str) -> None:
        client = self._client()
        key = self._key(user_id)
        async with client.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {connection_id: time.time() + self.lease_seconds}, xx=True)
            pipe.expire(key, int(self.lease_seconds) + 1)
            await pipe.execute()

    async def release(self, user_id: str, connection_id: str) -> None:
        await self._client().zrem(self._key(user_id), connection_id)


class LocalConnectionRegistry:
    """The embedded default (no Redis): one process, so a dict is the whole truth."""

    def __init__(self) -> None:
        self._connections: dict[str, set[str]] = {}

    async def acquire(self, user_id: str, connection_id: str, cap: int) -> bool:
        held = self._connections.setdefault(user_id, set())
        if len(held) >= cap:
            return False
        held.add(connection_id)
        return True

    async def renew(self, user_id: str, connection_id: str) -> None:
        return None

    async def release(self, user_id: str, connection_id: str) -> None:
        self._connections.get(user_id, set()).discard(connection_id)


_registry = None


def connection_registry():
    global _registry
    if _registry is None:
        if settings.CHANNEL_LAYER_URL:
            _registry = RedisConnectionRegistry(
                settings.CHANNEL_LAYER_URL,
                settings.CACHE_KEY_PREFIX,
                lease_seconds=settings.WS_HEARTBEAT_SECONDS * 3,
            )
        else:
            _registry = LocalConnectionRegistry()
    return _registry
