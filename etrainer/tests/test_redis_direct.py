"""The access check's dedicated Redis connection, against the test run's real redis-server."""

import os
import threading

import pytest
from django.core.cache import caches

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
    from redis.exceptions import ResponseError

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
    from redis.exceptions import ResponseError

    with pytest.raises(ResponseError):
        direct.execute_many(
            pool, [("SET", "etr:test:direct", "x"), ("INCR", "etr:test:direct"), ("PING",)]
        )

    assert direct.execute_many(pool, [("GET", "etr:test:direct"), ("PING",)]) == [b"x", b"PONG"]
