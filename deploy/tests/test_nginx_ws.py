"""The production nginx.conf proxies /ws/ to the ASGI service: a WebSocket end to end over TLS.

One real nginx in front of one uvicorn (the `asgi` service; it also stands in for the app upstream),
on a SQLite file database and the run's real Redis; stopped by pid at the end.
"""

import asyncio
import json
import ssl
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from deploy.tests.asgi_harness import Uvicorn, access_token, child_env, prepare_database
from deploy.tests.nginx_harness import Nginx, NginxLayout, nginx_binary
from deploy.tests.nginx_harness import self_signed_certificate as make_certificate
from notifications.realtime import group_publish, user_group
from testsupport.processes import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        nginx_binary() is None, reason="nginx is not installed (.ci/run installs it)"
    ),
]


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nginx-ws")
    database = workdir / "app.sqlite3"
    [user_id] = prepare_database(database, [False])
    asgi = Uvicorn(workdir, child_env(database, WS_HEARTBEAT_SECONDS="1")).launch()
    nginx = None
    try:
        asgi.wait()
        cert, key = make_certificate(workdir)
        layout = NginxLayout(
            prefix=workdir,
            http_port=free_port(),
            https_port=free_port(),
            upstreams=[f"127.0.0.1:{asgi.port}"],
            cert=cert,
            key=key,
            ws_upstreams=[f"127.0.0.1:{asgi.port}"],
        )
        nginx = Nginx(layout).start()
        yield layout, user_id
    finally:
        if nginx:
            nginx.stop()
        asgi.stop()


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def next_of_type(ws, kind: str, timeout: float) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
        if message["type"] == kind:
            return message


def test_nginx_proxies_a_websocket_end_to_end(edge):
    layout, user_id = edge
    url = f"wss://127.0.0.1:{layout.https_port}/ws/notifications?token={access_token(user_id)}"
    pushed = {"id": "n1", "kind": "system", "title": "Through nginx"}

    async def scenario():
        async with connect(url, ssl=tls_context(), open_timeout=20) as ws:
            ready = await next_of_type(ws, "ready", timeout=10)
            await ws.send(json.dumps({"type": "ping"}))
            pong = await next_of_type(ws, "pong", timeout=5)
            heartbeat = await next_of_type(ws, "ping", timeout=5)
            published = await asyncio.to_thread(
                group_publish,
                group=user_group(user_id),
                event={"type": "notification.push", "notification": pushed},
            )
            received = await next_of_type(ws, "notification", timeout=2)
        return ready, pong, heartbeat, published, received

    ready, pong, heartbeat, published, received = asyncio.run(scenario())

    assert ready["user"] == user_id
    assert (pong, heartbeat) == ({"type": "pong"}, {"type": "ping"})
    assert published is True
    assert received == {"type": "notification", "notification": pushed}
    assert "token=" not in logged_ws_request(layout)


def logged_ws_request(layout, timeout: float = 3.0) -> str:
    """nginx logs a WebSocket request when it ends: the line, without the query string."""
    log = layout.prefix / "logs" / "access.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if "/ws/notifications" in line]
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError("no /ws/ line in nginx's access log")


def test_a_forged_token_is_closed_with_4401_through_nginx(edge):
    layout, user_id = edge
    token = access_token(user_id)[:-4] + "AAAA"
    url = f"wss://127.0.0.1:{layout.https_port}/ws/notifications?token={token}"

    async def scenario():
        async with connect(url, ssl=tls_context(), open_timeout=20) as ws:
            try:
                await asyncio.wait_for(ws.recv(), timeout=10)
            except ConnectionClosed as closed:
                return closed.rcvd.code
        return None

    assert asyncio.run(scenario()) == 4401
