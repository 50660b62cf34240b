"""/ws/notifications without an allowed Origin: refused with a reason the client can read.

In process through the real ASGI application (both refusal forms), and once over the wire against a
real uvicorn, whose WebSocket implementation offers the ``websocket.http.response`` extension.
"""

import asyncio
import json

import pytest
from asgiref.testing import ApplicationCommunicator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from deploy.tests.asgi_harness import Uvicorn, child_env
from etrainer.asgi import application


def scope(origin: bytes | None, *, extension: bool) -> dict:
    headers = [(b"host", b"localhost")] + ([(b"origin", origin)] if origin is not None else [])
    return {
        "type": "websocket",
        "path": "/ws/notifications",
        "raw_path": b"/ws/notifications",
        "query_string": b"",
        "headers": headers,
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}} if extension else {},
    }


async def handshake(origin: bytes | None, *, extension: bool) -> list[dict]:
    communicator = ApplicationCommunicator(application, scope(origin, extension=extension))
    await communicator.send_input({"type": "websocket.connect"})
    sent = [await communicator.receive_output(timeout=5)]
    if sent[0]["type"] in ("websocket.accept", "websocket.http.response.start"):
        sent.append(await communicator.receive_output(timeout=5))
    await communicator.wait(timeout=5)
    return sent


@pytest.fixture
def named_hosts(settings):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]


@pytest.mark.usefixtures("named_hosts")
@pytest.mark.parametrize(
    ("origin", "says"),
    [(None, "Origin header missing"), (b"https://evil.example", "Origin not allowed")],
)
def test_a_refusal_is_a_json_403_where_the_server_allows_one(origin, says):
    start, body = asyncio.run(handshake(origin, extension=True))

    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 403
    assert (b"content-type", b"application/json") in start["headers"]
    error = json.loads(body["body"])["error"]
    assert error["code"] == "origin_not_allowed"
    assert error["message"].startswith(says)
    assert "DJANGO_ALLOWED_HOSTS" in error["message"]


@pytest.mark.usefixtures("named_hosts")
def test_without_the_extension_the_refusal_is_a_close_with_code_and_reason():
    accept, close = asyncio.run(handshake(None, extension=False))

    assert accept["type"] == "websocket.accept"
    assert close["type"] == "websocket.close"
    assert close["code"] == 4403
    assert close["reason"].startswith("Origin header missing")


@pytest.fixture(scope="module")
def uvicorn(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ws-origin")
    env = child_env(
        workdir / "unused.sqlite3", DJANGO_SETTINGS_MODULE="deploy.tests.ws_origin_settings"
    )
    server = Uvicorn(workdir, env).launch()
    try:
        yield server.wait()
    finally:
        server.stop()


@pytest.mark.slow
def test_a_real_client_without_origin_reads_why_it_was_refused(uvicorn):
    async def attempt():
        with pytest.raises(InvalidStatus) as refused:
            async with connect(uvicorn.url, open_timeout=20):
                pass
        return refused.value.response

    response = asyncio.run(attempt())

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body)["error"]["code"] == "origin_not_allowed"


@pytest.mark.slow
def test_a_real_client_with_an_allowed_origin_gets_the_protocol(uvicorn):
    async def attempt():
        async with connect(uvicorn.url, origin="http://localhost", open_timeout=20) as ws:
            await ws.send(json.dumps({"type": "auth", "token": "not-a-jwt"}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=10)
        return closed.value.rcvd.code

    assert asyncio.run(attempt()) == 4401
