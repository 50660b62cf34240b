"""The cache is Redis in tests (the run's own redis-server); when it goes away, requests go on."""

import time

import pytest
import redis
from django.core.cache import cache

from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory
from etrainer.redis_breaker import breaker

pytestmark = pytest.mark.django_db


def test_cache_is_the_real_redis(redis_server):
    cache.set("probe", "value", 30)

    raw = redis.Redis.from_url(redis_server.url)
    assert raw.get(cache.make_key("probe")) is not None


def test_requests_still_answer_when_redis_is_stopped_mid_test(client, redis_server):
    # given: an admin session stored through the cache
    StaffFactory(email="ops@example.com")
    assert client.login(email="ops@example.com", password=DEFAULT_PASSWORD)
    assert client.get("/admin/").status_code == 200

    # when
    redis_server.stop()
    started = time.monotonic()
    response = client.get("/admin/")
    elapsed = time.monotonic() - started

    # then: the session falls back to the database and the page still renders
    assert response.status_code == 200
    assert elapsed < 1.0
    assert cache.get("anything", "fallback") == "fallback"


def test_a_hung_redis_costs_one_timeout_then_the_breaker_answers_at_once(redis_server, settings):
    cache.set("k", 1)
    redis_server.pause()  # SIGSTOP: connections are accepted, nothing answers

    started = time.monotonic()
    assert cache.get("k", "miss") == "miss"
    first_call = time.monotonic() - started
    started = time.monotonic()
    for _ in range(20):
        assert cache.get("k", "miss") == "miss"
    next_twenty = time.monotonic() - started

    assert breaker.is_open
    # One timeout, then twenty calls that together cost less than a single timeout would (margins
    # for a shared, noisy machine: twenty timeouts would take 20 x REDIS_SOCKET_TIMEOUT).
    assert first_call < settings.REDIS_SOCKET_TIMEOUT + 1.0
    assert next_twenty < settings.REDIS_SOCKET_TIMEOUT


def test_breaker_closes_again_once_redis_is_back(redis_server):
    breaker.reset_seconds, saved = 0.2, breaker.reset_seconds
    try:
        redis_server.stop()
        cache.get("k")
        assert breaker.is_open
        redis_server.start()
        time.sleep(0.25)

        cache.set("k", "back", 30)

        assert cache.get("k") == "back"
        assert not breaker.is_open
    finally:
        breaker.reset_seconds = saved
