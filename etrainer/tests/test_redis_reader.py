"""The access check's dedicated Redis connection, against the test run's real redis-server."""

import os
import threading

import pytest
from django.core.cache import caches

from etrainer.redis_reader import DedicatedReader

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(redis_server):
    return caches["default"].client.get_client(write=False).connection_pool


@pytest.fixture
def reader():
    reader = DedicatedReader()
    yield reader
    reader.close()


def client_id(reader, pool) -> int:
    return reader.execute(pool, "CLIENT", "ID")


def test_one_connection_serves_every_call_of_a_thread(reader, pool):
    assert client_id(reader, pool) == client_id(reader, pool) == client_id(reader, pool)


def test_each_thread_has_its_own_connection(reader, pool):
    ids = []
    threads = [
        threading.Thread(target=lambda: ids.append(client_id(reader, pool))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({*ids, client_id(reader, pool)}) == 3


def test_a_forked_child_never_writes_on_its_parents_socket(reader, pool):
    parent_id = client_id(reader, pool)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            os.write(write_end, str(client_id(reader, pool)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child_id = int(os.read(read_end, 64) or b"0")
    os.close(read_end)
    os.waitpid(child, 0)

    assert child_id not in (0, parent_id)
    assert client_id(reader, pool) == parent_id


def test_an_error_reply_leaves_the_connection_usable(reader, pool):
    from redis.exceptions import ResponseError

    with pytest.raises(ResponseError):
        reader.execute(pool, "NO-SUCH-COMMAND")

    assert reader.execute(pool, "PING") in (b"PONG", True)
