"""WebSocket notifications (channels) under the ASGI service.

The channel layer is Redis pub/sub (one PUBLISH per notification, fan-out in each ASGI process);
the in-memory layer only under the embedded default, where one process is the whole system.
"""

from etrainer.env import env
from etrainer.settings.components.cache import CACHE_KEY_PREFIX, REDIS_URL

# The websocket routes etrainer/asgi.py serves, by dotted path (the project package imports no app).
WEBSOCKET_URLPATTERNS = "notifications.routing.websocket_urlpatterns"
CHANNEL_LAYER_URL = env("CHANNEL_LAYER_URL", default="") or REDIS_URL
CHANNEL_LAYER_PREFIX = f"{CACHE_KEY_PREFIX}:ws"
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [CHANNEL_LAYER_URL], "prefix": CHANNEL_LAYER_PREFIX},
        }
        if CHANNEL_LAYER_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
WS_MAX_CONNECTIONS_PER_USER = env.int("WS_MAX_CONNECTIONS_PER_USER", default=5)
WS_HEARTBEAT_SECONDS = env.float("WS_HEARTBEAT_SECONDS", default=25.0)
WS_AUTH_TIMEOUT_SECONDS = env.float("WS_AUTH_TIMEOUT_SECONDS", default=10.0)
