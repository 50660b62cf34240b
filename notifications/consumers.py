"""``/ws/notifications``: a user's notifications, pushed as they are created, in any process.

Protocol (JSON text frames):
- authenticate with the access JWT, either ``?token=<jwt>`` on the URL or a first message
  ``{"type": "auth", "token": "<jwt>"}`` within ``WS_AUTH_TIMEOUT_SECONDS`` (never a cookie);
- the server answers ``{"type": "ready", "user": "<id>", "expires_at": <epoch s>}``, then sends
  ``{"type": "notification", "notification": {…the REST representation…}}`` for each new one;
- every ``WS_HEARTBEAT_SECONDS`` the server sends ``{"type": "ping"}`` (keeps proxies from idling
  the connection out and renews its lease in the connection cap); ``{"type": "ping"}`` from the
  client gets ``{"type": "pong"}``. Dead peers are found by the server's protocol-level pings
  (uvicorn ``--ws-ping-interval``/``--ws-ping-timeout``), which end the connection and its lease.

Close codes: 4401 invalid, expired or missing token (and when the token expires while connected:
reconnect with a fresh one), 4429 the user already holds ``WS_MAX_CONNECTIONS_PER_USER``
connections, 4503 Redis unavailable. A process that crashes leaves its leases behind; they lapse
after three heartbeats, so a crash never locks a user out for longer.
"""

import asyncio
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from etrainer.api.authentication import TOKEN_VERSION_CLAIM
from etrainer.metrics import (
    record_ws_connection_closed,
    record_ws_connection_opened,
    record_ws_message_sent,
    record_ws_refused,
    record_ws_send_failure,
)
from notifications.realtime import connection_registry, user_group

logger = logging.getLogger(__name__)


class CloseCode:
    UNAUTHORIZED = 4401
    TOO_MANY_CONNECTIONS = 4429
    UNAVAILABLE = 4503


class InvalidCredentials(Exception):
    pass


def user_id_from_token(raw_token: str) -> tuple[str, float, int]:
    """Signature, type and expiry checked by simplejwt; returns (user id, exp, token version)."""
    try:
        token = AccessToken(raw_token)
    except TokenError as exc:
        raise InvalidCredentials(str(exc)) from None
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        raise InvalidCredentials("Token contained no recognizable user identification")
    return str(user_id), float(token["exp"]), token.get(TOKEN_VERSION_CLAIM, 0)


@database_sync_to_async
def active_user_exists(user_id: str, token_version: int) -> bool:
    """A deleted or deactivated user's still-unexpired tokens are refused here too, and so are
    tokens issued before the user's last password change or logout-all (an older version)."""
    try:
        return (
            get_user_model()
            .objects.filter(
                **{api_settings.USER_ID_FIELD: user_id}, is_active=True, token_version=token_version
            )
            .exists()
        )
    except (ValueError, TypeError):
        return False


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    user_id: str | None = None
    group: str | None = None
    registered = False

    async def connect(self):
        self.tasks: list[asyncio.Task] = []
        await self.accept()
        token = self._query_token()
        if token:
            await self.authenticate(token)
        else:
            self.tasks.append(asyncio.ensure_future(self._auth_deadline()))

    def _query_token(self) -> str | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        return (query.get("token") or [None])[0]

    async def _auth_deadline(self):
        await asyncio.sleep(settings.WS_AUTH_TIMEOUT_SECONDS)
        if self.user_id is None:
            await self.refuse("unauthorized", CloseCode.UNAUTHORIZED, "authentication timeout")

    async def authenticate(self, raw_token: str) -> None:
        try:
            user_id, expires_at, token_version = user_id_from_token(raw_token)
            if not await active_user_exists(user_id, token_version):
                raise InvalidCredentials("User not found or inactive")
        except InvalidCredentials as exc:
            await self.refuse("unauthorized", CloseCode.UNAUTHORIZED, str(exc)[:100])
            return
        try:
            acquired = await connection_registry().acquire(
                user_id, self.channel_name, settings.WS_MAX_CONNECTIONS_PER_USER
            )
        except Exception:
            logger.exception("Connection registry unavailable")
            await self.refuse("unavailable", CloseCode.UNAVAILABLE, "try again later")
            return
        if not acquired:
            await self.refuse("too_many", CloseCode.TOO_MANY_CONNECTIONS, "too many connections")
            return
        self.registered = True
        self.user_id, self.group = user_id, user_group(user_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        record_ws_connection_opened()
        self.tasks.append(asyncio.ensure_future(self._heartbeat()))
        self.tasks.append(asyncio.ensure_future(self._expire_at(expires_at)))
        await self.send_json({"type": "ready", "user": user_id, "expires_at": int(expires_at)})

    async def refuse(self, reason: str, code: int, message: str) -> None:
        record_ws_refused(reason)
        await self.close(code=code, reason=message)

    async def _expire_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(code=CloseCode.UNAUTHORIZED, reason="token expired")

    async def _heartbeat(self) -> None:
        interval = settings.WS_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(interval)
            try:
                await connection_registry().renew(self.user_id, self.channel_name)
            except Exception:
                logger.warning("Could not renew the connection lease of user %s", self.user_id)
            await self.send_json({"type": "ping"})

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if self.user_id is None:
            if kind == "auth" and isinstance(content.get("token"), str):
                await self.authenticate(content["token"])
            else:
                await self.refuse("unauthorized", CloseCode.UNAUTHORIZED, "authenticate first")
        elif kind == "ping":
            await self.send_json({"type": "pong"})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            return
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "message": "messages are JSON objects"})

    async def notification_push(self, event):
        try:
            await self.send_json({"type": "notification", "notification": event["notification"]})
        except Exception:
            record_ws_send_failure("deliver")
            logger.exception("Could not push a notification to user %s", self.user_id)
            return
        record_ws_message_sent()

    async def disconnect(self, code):
        for task in getattr(self, "tasks", []):
            if task is not asyncio.current_task():
                task.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            record_ws_connection_closed()
        if self.registered:
            try:
                await connection_registry().release(self.user_id, self.channel_name)
            except Exception:
                logger.warning("Could not release the connection lease of user %s", self.user_id)
