"""The Origin check in front of the WebSocket routes, with a refusal a client can read.

channels' ``AllowedHostsOriginValidator`` refuses by closing before the handshake completes, which
the server answers with a bare HTTP 403: a client cannot tell a missing Origin from a wrong path.
The rule here is the same (the Origin's host must be in ``ALLOWED_HOSTS``; no Origin passes only
with ``"*"``), read at each connection. The refusal says why: an HTTP 403 whose body is the JSON
error envelope, where the server offers ASGI's ``websocket.http.response`` extension (uvicorn
does); otherwise the handshake is accepted and closed at once with code 4403 and the reason.
Either way nothing reaches the consumer.
"""

import json
from urllib.parse import urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

from etrainer.api.errors import error_body

ORIGIN_NOT_ALLOWED = "origin_not_allowed"
ORIGIN_REFUSED_CLOSE_CODE = 4403
HTTP_RESPONSE_EXTENSION = "websocket.http.response"
MISSING = "Origin header missing: send an Origin naming a host in DJANGO_ALLOWED_HOSTS."
NOT_ALLOWED = "Origin not allowed: its host is not in DJANGO_ALLOWED_HOSTS."


class ExplainedOriginValidator(OriginValidator):
    def __init__(self, application) -> None:
        self.application = application

    @property
    def allowed_origins(self) -> list[str]:
        """channels' AllowedHostsOriginValidator rule, read per connection (settings may change)."""
        if settings.DEBUG and not settings.ALLOWED_HOSTS:
            return ["localhost", "127.0.0.1", "[::1]"]
        return settings.ALLOWED_HOSTS

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("ExplainedOriginValidator serves WebSocket connections only")
        origin = _origin_header(scope)
        parsed = urlparse(origin) if origin is not None else None
        if self.valid_origin(parsed):
            return await self.application(scope, receive, send)
        return await refuse_origin(scope, receive, send, origin)


def _origin_header(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


async def refuse_origin(scope, receive, send, origin: str | None) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    reason = MISSING if origin is None else NOT_ALLOWED
    if HTTP_RESPONSE_EXTENSION in scope.get("extensions", {}):
        body = json.dumps(error_body(ORIGIN_NOT_ALLOWED, reason, {"origin": origin})).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": ORIGIN_REFUSED_CLOSE_CODE, "reason": reason})
