"""Shared rate limits per endpoint group, answered with 429 in the envelope and Retry-After."""

import time

import pytest
import redis
from prometheus_client import REGISTRY
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from etrainer.api.authentication import verified_tokens
from etrainer.ratelimit import client_ip, rate_key, rule_for

pytestmark = pytest.mark.django_db

GROUP_CALLS = [
    ("auth", "post", "/api/auth/token"),
    ("uploads", "post", "/api/uploads/images"),
    ("ai", "post", "/api/ai-tokens/consume"),
    ("system", "get", "/api/system/jobs/stats"),
    ("default", "get", "/api/me"),
]


def call(client, method, path):
    return client.post(path, {}, format="json") if method == "post" else client.get(path)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def events(group: str, outcome: str) -> float:
    labels = {"group": group, "outcome": outcome}
    return REGISTRY.get_sample_value("etrainer_ratelimit_events_total", labels) or 0.0


def assert_limited(response, group):
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["group"] == group
    assert error["details"]["retry_after"] == int(response["Retry-After"])


@pytest.mark.parametrize(("group", "method", "path"), GROUP_CALLS)
def test_the_call_after_the_limit_gets_429_with_retry_after(tiny_limits, group, method, path):
    client = APIClient()

    answers = [call(client, method, path).status_code for _ in range(tiny_limits)]
    over = call(client, method, path)

    assert 429 not in answers
    assert_limited(over, group)


def test_a_path_that_routes_nowhere_is_counted_too(tiny_limits):
    """No view, so no process_view: the limiter counts the request on its way out."""
    client = APIClient()

    answers = [client.get("/api/no-such-endpoint").status_code for _ in range(tiny_limits)]
    over = client.get("/api/no-such-endpoint")

    assert answers == [404] * tiny_limits
    assert_limited(over, "default")


def test_groups_count_separately(tiny_limits):
    client = APIClient()
    for _ in range(tiny_limits + 1):
        client.get("/api/me")

    assert client.get("/api/me").status_code == 429
    assert client.post("/api/auth/token", {}, format="json").status_code == 400


def test_authenticated_calls_are_counted_per_user(tiny_limits, learner, staff_user):
    ada, bob = (
        bearer(str(AccessToken.for_user(learner))),
        bearer(str(AccessToken.for_user(staff_user))),
    )
    for _ in range(tiny_limits):
        assert ada.get("/api/me").status_code == 200

    assert ada.get("/api/me").status_code == 429
    assert bob.get("/api/me").status_code == 200
    assert APIClient().get("/api/me").status_code == 401


def test_a_forged_token_is_keyed_by_address_not_by_its_claimed_user(tiny_limits, learner):
    header, payload, _signature = str(AccessToken.for_user(learner)).split(".")
    forged = bearer(f"{header}.{payload}.AAAA")
    for _ in range(tiny_limits):
        APIClient().get("/api/me")

    assert forged.get("/api/me").status_code == 429


@pytest.mark.parametrize("path", ["/health", "/metrics"])
def test_health_and_metrics_are_never_limited(tiny_limits, path):
    client = APIClient()

    statuses = {client.get(path).status_code for _ in range(tiny_limits * 3)}

    assert 429 not in statuses


def test_admin_login_posts_share_the_auth_limit_but_the_login_page_does_not(tiny_limits):
    client = APIClient()
    for _ in range(tiny_limits * 2):
        assert client.get("/admin/login/").status_code == 200
    for _ in range(tiny_limits):
        client.post("/admin/login/", {"username": "x@example.com", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "x@example.com", "password": "wrong"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit(tiny_limits):
    client = APIClient()
    for n in range(tiny_limits):
        client.get("/api/me", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    response = client.get("/api/me", HTTP_X_FORWARDED_FOR="198.51.100.77")

    assert_limited(response, "default")


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(
    tiny_limits, settings
):
    settings.RATELIMIT_TRUSTED_PROXIES = ["127.0.0.0/8", "10.0.0.0/8"]
    client = APIClient()
    # The client forged the left-most entry; 198.51.100.7 is what the proxies saw.
    for n in range(tiny_limits):
        client.get("/api/me", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 198.51.100.7, 10.0.0.5")

    assert client.get("/api/me", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert client.get("/api/me", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 401


def test_redis_down_fails_open_and_is_counted(tiny_limits, redis_server):
    client = APIClient()
    before = events("default", "failed_open")
    redis_server.stop()

    statuses = [client.get("/api/me").status_code for _ in range(tiny_limits * 2)]

    assert statuses == [401] * (tiny_limits * 2)
    assert events("default", "failed_open") - before == tiny_limits * 2


def test_redis_down_with_fail_closed_answers_503_in_the_envelope(
    tiny_limits, redis_server, settings
):
    settings.RATELIMIT_FAIL_OPEN = False
    redis_server.stop()

    response = APIClient().get("/api/me")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "Retry-After" in response


def test_limited_calls_are_counted_in_the_metrics(tiny_limits):
    client = APIClient()
    before = events("default", "limited")

    for _ in range(tiny_limits + 2):
        client.get("/api/me")

    assert events("default", "limited") - before == 2


def test_each_counted_request_is_one_redis_round_trip(tiny_limits, redis_server):
    """The server counts read events: the SET NX EX and the INCR arrive in one write."""
    client = APIClient()
    client.get("/api/me")  # the first call also connects
    admin = redis.Redis.from_url(redis_server.url)
    try:
        before = admin.info("stats")["total_reads_processed"]
        client.get("/api/me")
        after = admin.info("stats")["total_reads_processed"]
    finally:
        admin.close()

    assert after - before == 2  # the request's one write, and the INFO call that reads the count


def test_the_count_starts_again_in_the_next_window(settings):
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "default": "2/s"}
    client = APIClient()
    while time.time() % 1 > 0.5:  # start early in a window, so three calls share it
        time.sleep(0.05)
    statuses = [client.get("/api/me").status_code for _ in range(3)]
    time.sleep(1.05 - time.time() % 1)

    assert statuses == [401, 401, 429]
    assert client.get("/api/me").status_code == 401


def test_a_token_verified_for_the_limit_is_not_verified_again_by_authentication(learner, rf):
    token = str(AccessToken.for_user(learner))
    request = rf.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    key = rate_key(request, rule_for("/api/me", "GET"))

    assert key == f"user:{learner.pk}"
    remembered = verified_tokens.get(token.encode())
    assert remembered is not None
    assert str(remembered["user_id"]) == str(learner.pk)


def test_a_forged_token_is_not_remembered(learner, rf):
    token = str(AccessToken.for_user(learner))[:-2] + "xx"
    request = rf.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert rate_key(request, rule_for("/api/me", "GET")).startswith("ip:")
    assert verified_tokens.get(token.encode()) is None


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # two trusted hops
        ("10.0.0.2", "10.0.0.5, 10.0.0.7", "10.0.0.5"),  # all trusted: the left-most
        ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),  # malformed: stop at the last good
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_client_ip(settings, rf, remote, forwarded, client):
    settings.RATELIMIT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == client
