"""The access cache against the test run's real redis-server: round trips, outages, families."""

import datetime as dt
import pickle
import threading
import time

import pytest
import redis
from django.urls import get_resolver, resolve
from django.urls.resolvers import URLResolver
from django_redis.cache import RedisCache

from etrainer.redis_breaker import breaker, configure_breaker
from subscriptions import cache as access_cache
from subscriptions.authentication import access_read_along
from subscriptions.request_context import access_context, read_along_lookup
from subscriptions.tests.factories import CourseGrantFactory

pytestmark = pytest.mark.django_db

ACCESS = "/api/me/access"
STOP_MARKER = "etr-test-monitor-stop"


class RedisCommandLog:
    """Every command the server receives between enter and exit, read with MONITOR."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self.clients: list[str] = []  # the sender of each command (address:port)

    def __enter__(self):
        self._monitor = self.client.monitor().__enter__()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()
        return self

    def _collect(self) -> None:
        for entry in self._monitor.listen():
            if STOP_MARKER in entry["command"]:
                return
            self.commands.append(entry["command"])
            self.clients.append(f"{entry.get('client_address')}:{entry.get('client_port')}")

    def __exit__(self, *exc) -> None:
        self.client.echo(STOP_MARKER)
        self._thread.join(timeout=5)
        self._monitor.__exit__()
        self.client.close()

    def names(self) -> list[str]:
        """Command names, less the log's own stop handshake (HELLO on its fresh connection)."""
        names = [command.split()[0].strip('"').upper() for command in self.commands]
        return [name for name in names if name != "HELLO"]

    def touching(self, fragment: str) -> list[str]:
        return [command for command in self.commands if fragment in command]


def test_warm_access_costs_one_redis_command(redis_server, subscribed_learner, learner_client):
    CourseGrantFactory(user=subscribed_learner)
    learner_client.get(ACCESS)

    with RedisCommandLog(redis_server.url) as log:
        response = learner_client.get(ACCESS)

    assert response.status_code == 200
    access_commands = log.touching(":v1:")
    assert len(access_commands) == 1, log.commands
    assert access_commands[0].startswith("MGET")
    for family in ("user", "sub", "ai", "grants"):
        assert f"etr:v1:{family}:{subscribed_learner.pk}" in access_commands[0]
    # Anything else is another area's (the shared rate limiter), never ours.
    assert all(":v1:" not in command for command in log.commands if command not in access_commands)


def warm_check_commands(redis_server, client, settings, *, ratelimit: bool) -> RedisCommandLog:
    settings.RATELIMIT_ENABLE = ratelimit
    client.get(ACCESS)
    with RedisCommandLog(redis_server.url) as log:
        assert client.get(ACCESS).status_code == 200
    return log


def test_with_the_rate_limiter_on_a_warm_check_is_still_one_round_trip(
    redis_server, subscribed_learner, learner_client, settings
):
    log = warm_check_commands(redis_server, learner_client, settings, ratelimit=True)

    # the limiter's SET NX + INCR and the access MGET: one write, one connection, in that order
    assert log.names() == ["SET", "INCR", "MGET"], log.commands
    assert len(set(log.clients[:3])) == 1
    assert f"etr:v1:sub:{subscribed_learner.pk}" in log.commands[2]


def test_with_the_rate_limiter_on_redis_reads_one_request_from_a_warm_check(
    redis_client, subscribed_learner, learner_client, settings
):
    """The server counts read events: one for the whole pipeline, not one per round trip."""
    settings.RATELIMIT_ENABLE = True
    learner_client.get(ACCESS)

    before = redis_client.info("stats")["total_reads_processed"]
    response = learner_client.get(ACCESS)
    after = redis_client.info("stats")["total_reads_processed"]

    assert response.status_code == 200
    assert after - before == 2  # the request's one write, and the INFO call that reads the count


def test_without_the_rate_limiter_the_access_check_reads_on_its_own(
    redis_server, subscribed_learner, learner_client, settings
):
    log = warm_check_commands(redis_server, learner_client, settings, ratelimit=False)

    assert log.names() == ["MGET"], log.commands


def test_warm_course_access_reads_the_course_in_the_same_command(
    redis_server, subscribed_learner, learner_client, pro_course
):
    url = f"/api/courses/{pro_course.pk}/access"
    learner_client.get(url)

    with RedisCommandLog(redis_server.url) as log:
        learner_client.get(url)

    access_commands = log.touching(":v1:")
    assert len(access_commands) == 1, log.commands
    assert f"etr:v1:course:{pro_course.pk}" in access_commands[0]


def test_keys_are_versioned_and_namespaced(redis_client, subscribed_learner, learner_client):
    learner_client.get(ACCESS)

    keys = {key.decode() for key in redis_client.keys("etr:v1:*")}

    uid = subscribed_learner.pk
    assert {f"etr:v1:{family}:{uid}" for family in ("user", "sub", "ai", "grants")} <= keys
    assert access_cache.KEY_FAMILIES["sub"].format(user=uid) in keys


def test_ttls_follow_the_settings(redis_client, subscribed_learner, learner_client):
    learner_client.get(ACCESS)
    uid = subscribed_learner.pk

    ttls = {
        family: redis_client.ttl(f"etr:v1:{family}:{uid}") for family in ("sub", "ai", "grants")
    }

    assert 290 <= ttls["sub"] <= 300
    assert 50 <= ttls["ai"] <= 60
    assert 590 <= ttls["grants"] <= 600


def test_invalidate_user_deletes_every_key_of_that_user(subscribed_learner, learner_client):
    learner_client.get(ACCESS)

    assert access_cache.invalidate_user(subscribed_learner.pk) == 4
    assert access_cache.invalidate_user(subscribed_learner.pk) == 0


def test_invalidate_family_turns_entries_into_misses(subscribed_learner, learner_client):
    learner_client.get(ACCESS)
    assert access_cache.fetch(subscribed_learner.pk, ["sub"]).get("sub") is not access_cache.MISS

    access_cache.invalidate_family("sub")

    assert access_cache.fetch(subscribed_learner.pk, ["sub"]).get("sub") is access_cache.MISS
    assert access_cache.fetch(subscribed_learner.pk, ["ai"]).get("ai") is not access_cache.MISS


def test_invalidate_users_in_bulk(subscribed_learner, learner_client):
    learner_client.get(ACCESS)

    deleted = access_cache.invalidate_users([subscribed_learner.pk, "404"], families=["ai"])

    assert deleted == 1


def test_fetch_reads_back_what_store_wrote_with_every_type_intact(subscribed_learner):
    value = {"when": dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC), "n": 7, "list": [None, "x"]}
    access_cache.store("grants", subscribed_learner.pk, value)

    lookup = access_cache.fetch(subscribed_learner.pk, ["grants"])

    assert lookup.get("grants") == value


def test_values_are_decoded_as_the_backend_would_with_another_serializer(redis_server):
    json_options = {"SERIALIZER": "django_redis.serializers.json.JSONSerializer"}
    json_backend = RedisCache(redis_server.url, {"OPTIONS": json_options})
    pickle_backend = RedisCache(redis_server.url, {})

    assert access_cache.decoder(pickle_backend.client, {}) is pickle.loads
    json_decode = access_cache.decoder(json_backend.client, json_options)
    assert json_decode is not pickle.loads
    assert json_decode(json_backend.client.encode(["a", 1])) == ["a", 1]


def test_a_lost_version_key_reads_as_a_miss(redis_client, subscribed_learner, learner_client):
    learner_client.get(ACCESS)
    redis_client.delete("etr:v1:ver:sub")

    assert access_cache.fetch(subscribed_learner.pk, ["sub"]).get("sub") is access_cache.MISS


# --- Redis down or hung ------------------------------------------------------------------------


def test_redis_stopped_access_still_answers_from_the_database(
    redis_server, subscribed_learner, learner_client
):
    learner_client.get(ACCESS)
    redis_server.stop()

    response = learner_client.get(ACCESS)

    assert response.status_code == 200
    assert response.json()["tier"] == 1
    assert response.json()["ai_tokens"]["remaining"] == 90


def test_redis_stopped_writes_still_succeed(redis_server, subscribed_learner, learner_client):
    redis_server.stop()

    response = learner_client.post("/api/ai-tokens/consume", {"amount": 5}, format="json")

    assert response.status_code == 200
    assert response.json()["remaining"] == 85


def test_a_redis_restart_costs_a_reconnect_not_an_open_breaker(
    redis_server, subscribed_learner, learner_client
):
    assert learner_client.get(ACCESS).status_code == 200
    trips = breaker.trips
    redis_server.stop()
    redis_server.start()

    first = learner_client.get(ACCESS)
    second = learner_client.get(ACCESS)

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert breaker.trips == trips
    assert not breaker.is_open


@pytest.fixture
def breaker_period():
    """Set the breaker's reset period for a test, then restore it."""
    previous = breaker.reset_seconds
    yield configure_breaker
    configure_breaker(previous)


def test_hung_redis_costs_one_timeout_not_one_per_request(
    redis_server, subscribed_learner, learner_client, breaker_period, settings
):
    breaker_period(5.0)
    learner_client.get(ACCESS)
    redis_server.pause()
    trips = breaker.trips

    # given a hung Redis, when: a burst of 20 sequential requests
    started = time.monotonic()
    responses = [learner_client.get(ACCESS) for _ in range(20)]
    elapsed = time.monotonic() - started

    # then: all answered from the database, and the breaker paid one socket timeout
    assert [r.status_code for r in responses] == [200] * 20
    assert all(r.json()["tier"] == 1 for r in responses)
    assert breaker.trips - trips == 1
    # 20 timeouts would take 20 x 0.25 s; one timeout plus the database time stays far below
    # (half of it leaves room for a slow database lane on a loaded machine).
    assert elapsed < 20 * settings.REDIS_SOCKET_TIMEOUT / 2, elapsed

    # and it recovers after SIGCONT once the reset period has passed
    redis_server.resume()
    breaker_period(0.1)
    time.sleep(0.2)
    assert learner_client.get(ACCESS).status_code == 200
    assert not breaker.is_open


def test_after_recovery_warm_access_is_query_free_again(
    redis_server, subscribed_learner, learner_client, breaker_period, django_assert_num_queries
):
    breaker_period(0.1)
    redis_server.pause()
    learner_client.get(ACCESS)
    redis_server.resume()
    time.sleep(0.2)
    learner_client.get(ACCESS)

    with django_assert_num_queries(0):
        assert learner_client.get(ACCESS).status_code == 200


def test_a_read_along_serves_only_the_user_and_course_it_was_planned_for(rf):
    request = rf.get(ACCESS)
    planned = access_cache.plan_read("7", ("user", "sub"), course_id="3")
    access_context(request).read_along = access_cache.lookup_from(planned, {})

    def read(user_id, course_id, families=("user", "sub")):
        wanted = access_cache.plan_read(user_id, families, course_id=course_id)
        return read_along_lookup(request, wanted)

    assert read("7", "3") is not None
    assert read("8", "3") is None
    assert read("7", None) is None
    assert read("7", "4") is None
    assert read("7", "3", families=("user",)) is None


def test_with_the_rate_limiter_on_a_warm_check_resolves_its_url_once(
    subscribed_learner, learner_client, settings, monkeypatch
):
    """The limiter plans its read-along in process_view, on Django's own resolution: the path is
    resolved once."""
    settings.RATELIMIT_ENABLE = True
    learner_client.get(ACCESS)
    root, resolved = get_resolver(), []
    original = URLResolver.resolve

    def counting(self, path):
        if self is root:
            resolved.append(path)
        return original(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counting)
    response = learner_client.get(ACCESS)

    assert response.status_code == 200
    assert resolved == [ACCESS]


def test_the_read_along_is_planned_only_for_views_of_the_cached_authentication(
    rf, subscribed_learner
):
    access, other = rf.get(ACCESS), rf.get("/api/me")
    access.resolver_match, other.resolver_match = resolve(ACCESS), resolve("/api/me")

    assert access_read_along(access, str(subscribed_learner.pk)) is not None
    assert access_read_along(other, str(subscribed_learner.pk)) is None
