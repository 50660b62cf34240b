"""Races against a live server with real threads, on PostgreSQL and MongoDB.

SQLite serializes writers, so a race cannot happen there: these run on the PostgreSQL lane
(`make test-postgres`) and the MongoDB lane (`make test-mongo`).
"""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread
from rest_framework_simplejwt.tokens import RefreshToken

from subscriptions.models import AiTokenAccount, Subscription, SubscriptionStatus
from subscriptions.tests.factories import AiTokenAccountFactory, PlanFactory, SubscriptionFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite serializes writers: no race to test (PostgreSQL and MongoDB lanes run it)",
    ),
]


class _WideBacklogServer(ThreadedWSGIServer):
    """Django's live server listens with a backlog of 10; 50 simultaneous connects overflow it."""

    request_queue_size = 128


class _LiveServerThread(LiveServerThread):
    server_class = _WideBacklogServer


@pytest.fixture
def live_url(transactional_db):
    thread = _LiveServerThread("127.0.0.1", static_handler=lambda app: app)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def _token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


def _post_all(url: str, token: str, body: dict, count: int) -> list[tuple[int, dict]]:
    """``count`` POSTs released together by a barrier, each on its own thread and connection."""
    barrier = threading.Barrier(count)

    def post(_):
        request = urllib.request.Request(  # noqa: S310
            url,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        barrier.wait(timeout=30)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(post, range(count)))


@pytest.fixture
def relaxed_ai_rate_limit(settings):
    """The shared rate limiter (another area) allows 30 AI calls a minute; this test needs 50."""
    rates = getattr(settings, "RATELIMIT_RATES", {})
    settings.RATELIMIT_RATES = {**rates, "ai": "1000/m", "default": "1000/m"}


def test_fifty_concurrent_consumes_never_overspend(live_url, learner, relaxed_ai_rate_limit):
    # given a quota of 20
    plan = PlanFactory(code="basic", ai_tokens_per_period=20)
    SubscriptionFactory(user=learner, plan=plan)
    AiTokenAccountFactory(user=learner, quota=20, used=0)

    # when 50 requests of 1 token arrive at once
    results = _post_all(f"{live_url}/api/ai-tokens/consume", _token(learner), {"amount": 1}, 50)

    # then exactly 20 succeed and 30 get 409 in the envelope
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 20 + [409] * 30, statuses
    conflicts = [body for status, body in results if status == 409]
    assert all(body["error"]["code"] == "conflict" for body in conflicts)
    assert all(body["error"]["details"]["reason"] == "insufficient_tokens" for body in conflicts)
    assert AiTokenAccount.objects.get(user=learner).used == 20


def test_ten_concurrent_subscribes_make_one_live_subscription(
    live_url, learner, relaxed_ai_rate_limit
):
    PlanFactory(code="basic")

    results = _post_all(f"{live_url}/api/subscriptions", _token(learner), {"plan": "basic"}, 10)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 9, statuses
    live = Subscription.objects.filter(user=learner, status=SubscriptionStatus.ACTIVE)
    assert live.count() == 1
