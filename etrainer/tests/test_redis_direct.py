"""The hot path's held Redis connection, against the test run's real redis-server."""

import logging
import os
import threading
import time

import pytest
import redis
from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from etrainer.redis_breaker import breaker
from etrainer.redis_direct import DirectConnections

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(redis_server):
    return caches["default"].client.get_client(write=False).connection_pool


@pytest.fixture
def direct():
    direct = DirectConnections()
    yield direct
    direct.close()


def client_id(direct, pool) -> int:
    return direct.execute(pool, "CLIENT", "ID")


def test_one_connection_serves_every_call_of_a_thread(direct, pool):
    assert client_id(direct, pool) == client_id(direct, pool) == client_id(direct, pool)


def test_each_thread_has_its_own_connection(direct, pool):
    ids = []
    threads = [
        threading.Thread(target=lambda: ids.append(client_id(direct, pool))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({*ids, client_id(direct, pool)}) == 3


def test_a_forked_child_never_writes_on_its_parents_socket(direct, pool):
    parent_id = client_id(direct, pool)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            os.write(write_end, str(client_id(direct, pool)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child_id = int(os.read(read_end, 64) or b"0")
    os.close(read_end)
    os.waitpid(child, 0)

    assert child_id not in (0, parent_id)
    assert client_id(direct, pool) == parent_id


def test_an_error_reply_leaves_the_connection_usable(direct, pool):
    with pytest.raises(ResponseError):
        direct.execute(pool, "NO-SUCH-COMMAND")

    assert direct.execute(pool, "PING") in (b"PONG", True)


def test_each_pool_keeps_its_own_connection(direct, pool, redis_server):
    """A replicated setup reads from several pools in turn: no reconnect at each switch."""
    other_pool = type(pool)(connection_class=pool.connection_class, **pool.connection_kwargs)

    first = [client_id(direct, pool), client_id(direct, other_pool)]
    second = [client_id(direct, pool), client_id(direct, other_pool)]

    assert first == second
    assert first[0] != first[1]


def test_commands_sent_together_answer_in_order(direct, pool):
    replies = direct.execute_many(
        pool,
        [
            ("SET", "etr:test:direct", "7"),
            ("INCR", "etr:test:direct"),
            ("MGET", "etr:test:direct", "etr:test:none"),
        ],
    )

    assert replies == [b"OK", 8, [b"8", None]]


def test_an_error_reply_in_a_batch_is_raised_and_the_next_batch_is_clean(direct, pool):
    with pytest.raises(ResponseError):
        direct.execute_many(
            pool, [("SET", "etr:test:direct", "x"), ("INCR", "etr:test:direct"), ("PING",)]
        )

    assert direct.execute_many(pool, [("GET", "etr:test:direct"), ("PING",)]) == [b"x", b"PONG"]


def test_a_connection_the_server_closed_is_replaced_before_use_without_opening_the_breaker(
    direct, pool, redis_server
):
    first_id = client_id(direct, pool)
    trips = breaker.trips
    admin = redis.Redis.from_url(redis_server.url)
    try:
        assert admin.client_kill_filter(_id=first_id) == 1
    finally:
        admin.close()

    second_id = client_id(direct, pool)

    assert second_id != first_id
    assert breaker.trips == trips
    assert not breaker.is_open


def test_bytes_nobody_asked_for_are_never_read_as_the_next_reply(direct, pool):
    first_id = client_id(direct, pool)
    # A reply arrives that no command of this round trip asked for (e.g. left by an interrupted
    # call): the next command must get its own reply, on a fresh connection.
    connection = direct.held(pool).connection
    connection.send_packed_command(connection.pack_command("ECHO", "stale"))
    time.sleep(0.05)

    assert direct.execute(pool, "ECHO", "fresh") == b"fresh"
    assert client_id(direct, pool) != first_id


def test_a_hung_server_times_out_and_opens_the_breaker(direct, pool, redis_server):
    direct.execute(pool, "PING")
    redis_server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            direct.execute(pool, "PING")
        timed_out_after = time.monotonic() - started
        assert breaker.is_open
        with pytest.raises(RedisConnectionError, match="breaker is open"):
            direct.execute(pool, "PING")
    finally:
        redis_server.resume()

    assert timed_out_after < pool.connection_kwargs["socket_timeout"] + 1.0


def test_a_round_trip_on_the_held_connection_closes_a_breaker_another_call_opened(
    direct, pool, redis_server, monkeypatch, caplog
):
    """Redis hung while only django-redis' pooled connections were in use: the held connection
    survives the pause, and its first success after the reset period closes the breaker."""
    monkeypatch.setattr(breaker, "reset_seconds", 0.3)
    held_id = client_id(direct, pool)
    redis_server.pause()
    try:
        assert caches["default"].get("etr:test:anything") is None  # times out: a miss
        assert breaker.is_open
    finally:
        redis_server.resume()
    time.sleep(0.35)

    with caplog.at_level(logging.INFO, logger="etrainer.cache"):
        assert client_id(direct, pool) == held_id

    assert "reachable again, breaker closed" in caplog.text


def test_a_connection_redis_py_decodes_keeps_redis_py_s_own_reading(direct, pool):
    decoding = type(pool)(
        connection_class=pool.connection_class, **{**pool.connection_kwargs}, decode_responses=True
    )

    assert direct.execute(decoding, "ECHO", "text") == "text"
    decoding.disconnect()
