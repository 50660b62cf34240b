"""WebSocket notifications across processes: two uvicorn ASGI servers and a gunicorn REST server on
one SQLite file database and the run's real Redis (one stack for the module, stopped by pid).
"""

import asyncio
import http.client
import json
import re
import time
from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from deploy.tests.asgi_harness import Uvicorn, access_token, child_env, prepare_database
from deploy.tests.nginx_harness import Gunicorn
from etrainer.api.authentication import TOKEN_VERSION_CLAIM

pytestmark = pytest.mark.slow

CAP = 3
DELIVERY_BOUND_S = 1.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ws-cluster")
    database = workdir / "app.sqlite3"
    alice, bob, carol = prepare_database(database, [True, False, False])
    env = child_env(
        database,
        WS_MAX_CONNECTIONS_PER_USER=str(CAP),
        WS_HEARTBEAT_SECONDS="1",
        RATELIMIT_ENABLE="false",
    )
    servers = [Uvicorn(workdir, env), Uvicorn(workdir, env)]
    rest = Gunicorn(workdir, env)
    try:
        for server in servers:
            server.launch()
        rest.start()
        for server in servers:
            server.wait()
        yield {"servers": servers, "rest": rest, "users": (alice, bob, carol)}
    finally:
        rest.stop()
        for server in servers:
            server.stop()


def rest_call(port: int, method: str, path: str, token: str, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


async def next_of_type(ws, kind: str, timeout: float) -> dict:
    """The next message of ``kind``, skipping heartbeat pings."""
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(
            await asyncio.wait_for(ws.recv(), timeout=max(0.0, deadline - time.monotonic()))
        )
        if message["type"] == kind:
            return message


async def close_code(url: str, first_message: dict | None = None) -> int:
    async with connect(url, open_timeout=20) as ws:
        if first_message is not None:
            await ws.send(json.dumps(first_message))
        try:
            while True:
                await asyncio.wait_for(ws.recv(), timeout=10)
        except ConnectionClosed as closed:
            return closed.rcvd.code


def test_a_notification_reaches_every_connection_of_its_user_on_both_servers(stack):
    first, second = stack["servers"]
    alice, bob, _ = stack["users"]
    alice_token, bob_token = access_token(alice), access_token(bob)
    rest_port = stack["rest"].port
    assert rest_call(rest_port, "GET", "/api/notifications", alice_token)[0] == 200  # warm

    async def scenario():
        async with (
            connect(f"{first.url}?token={alice_token}", open_timeout=20) as on_first,
            connect(f"{second.url}?token={alice_token}", open_timeout=20) as on_second,
            connect(f"{second.url}?token={bob_token}", open_timeout=20) as other_user,
        ):
            for ws in (on_first, on_second, other_user):
                await next_of_type(ws, "ready", timeout=10)
            # when: an exam through the REST server reaches the 7-day streak milestone
            sent = time.monotonic()
            status, _ = await asyncio.to_thread(
                rest_call, rest_port, "POST", "/api/exams/history", alice_token,
                {"exam_code": "TOEIC", "score": 5, "max_score": 10, "duration_s": 60},
            )  # fmt: skip
            answered = time.monotonic()
            received = await asyncio.gather(
                *(
                    next_of_type(ws, "notification", DELIVERY_BOUND_S)
                    for ws in (on_first, on_second)
                )
            )
            arrived = time.monotonic()
            with pytest.raises(TimeoutError):
                await next_of_type(other_user, "notification", timeout=0.5)
            return status, received, answered - sent, arrived - answered

    status, received, rest_seconds, delivery_seconds = asyncio.run(scenario())

    assert status == 201
    assert delivery_seconds < DELIVERY_BOUND_S
    print(f"REST call {rest_seconds:.3f} s, both pushes within {delivery_seconds:.3f} s after it")
    _, listed = rest_call(rest_port, "GET", "/api/notifications", alice_token)
    [rest_representation] = listed["results"]
    # the push is the notification as created; the (eager) email was sent right after
    assert rest_representation["sent_at"] is not None
    assert [m["notification"] for m in received] == [{**rest_representation, "sent_at": None}] * 2
    assert rest_representation["kind"] == "streak_milestone"


def forged(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[::-1]}"


def of_another_token_version(user_id: str) -> str:
    """A token from before a password change or logout-all: its version is not the user's."""

    token = AccessToken(access_token(user_id))
    token[TOKEN_VERSION_CLAIM] = 7
    return str(token)


@pytest.mark.parametrize("case", ["forged", "expired", "garbage", "unknown_user", "revoked"])
def test_a_bad_token_is_refused_at_connect_with_4401(stack, case):
    server = stack["servers"][0]
    alice = stack["users"][0]
    token = {
        "revoked": of_another_token_version(alice),
        "forged": forged(access_token(alice)),
        "expired": access_token(alice, lifetime=timedelta(minutes=-1)),
        "garbage": "not-a-jwt",
        "unknown_user": access_token("999999"),
    }[case]

    assert asyncio.run(close_code(f"{server.url}?token={token}")) == 4401


def test_first_message_auth_works_and_a_wrong_first_message_is_refused(stack):
    server = stack["servers"][1]
    alice = stack["users"][0]

    async def scenario():
        async with connect(server.url, open_timeout=20) as ws:
            await ws.send(json.dumps({"type": "auth", "token": access_token(alice)}))
            ready = await next_of_type(ws, "ready", timeout=10)
            await ws.send(json.dumps({"type": "ping"}))
            await next_of_type(ws, "pong", timeout=5)
            ping = await next_of_type(ws, "ping", timeout=5)  # the server's heartbeat (1 s here)
        refused = await close_code(server.url, first_message={"type": "hello"})
        return ready, ping, refused

    ready, ping, refused = asyncio.run(scenario())

    assert ready["user"] == alice
    assert ping == {"type": "ping"}
    assert refused == 4401


def test_the_connection_cap_holds_across_both_servers(stack):
    first, second = stack["servers"]
    carol = stack["users"][2]
    token = access_token(carol)

    async def scenario():
        held = []
        for server in (first, second, first):
            ws = await connect(f"{server.url}?token={token}", open_timeout=20)
            await next_of_type(ws, "ready", timeout=10)
            held.append(ws)
        over_cap = await close_code(f"{second.url}?token={token}")
        await held.pop().close()
        await asyncio.sleep(0.3)  # the server releases the slot on disconnect
        async with connect(f"{second.url}?token={token}", open_timeout=20) as again:
            readmitted = await next_of_type(again, "ready", timeout=10)
        for ws in held:
            await ws.close()
        return over_cap, readmitted

    over_cap, readmitted = asyncio.run(scenario())

    assert over_cap == 4429
    assert readmitted["user"] == carol


def test_the_connection_closes_when_its_token_expires(stack):
    server = stack["servers"][0]
    bob = stack["users"][1]
    token = access_token(bob, lifetime=timedelta(seconds=2))

    async def scenario():
        async with connect(f"{server.url}?token={token}", open_timeout=20) as ws:
            ready = await next_of_type(ws, "ready", timeout=10)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=10)
            except ConnectionClosed as closed:
                return ready, closed.rcvd.code, time.time()

    ready, code, closed_at = asyncio.run(scenario())

    assert code == 4401
    assert ready["expires_at"] <= closed_at < ready["expires_at"] + 2


def test_metrics_count_connections_and_pushes(stack):
    first = stack["servers"][0]
    conn = http.client.HTTPConnection("127.0.0.1", first.port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()

    def value(name: str) -> float:
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        assert match, name
        return float(match[1])

    assert value("etrainer_ws_messages_sent_total") >= 1
    assert value("etrainer_ws_connections") == 0
    assert value('etrainer_ws_refused_total{reason="unauthorized"}') >= 1
