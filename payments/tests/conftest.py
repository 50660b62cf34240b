import hashlib
import hmac
import json
import time

import pytest

from payments.tests.fake_stripe import FakeStripe
from subscriptions.tests.factories import PlanFactory

WEBHOOK_SECRET = "whsec_test_secret_for_the_suite"


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = FakeStripe()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server, settings):
    """Real Stripe mode (no development checkout), the SDK pointed at the fake server."""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake_stripe_server.url
    settings.STRIPE_DEV_CHECKOUT = False
    fake_stripe_server.calls.clear()
    fake_stripe_server.subscriptions.clear()
    fake_stripe_server.fail = False
    return fake_stripe_server


@pytest.fixture
def paid_plan(db):
    return PlanFactory(
        code="pro", name="Pro", tier=2, price_cents=1900, ai_tokens_per_period=500,
        stripe_price_id="price_pro_monthly",
    )  # fmt: skip


@pytest.fixture
def premium_plan(db):
    return PlanFactory(
        code="premium", name="Premium", tier=3, price_cents=4900, ai_tokens_per_period=2000,
        stripe_price_id="price_premium_monthly",
    )  # fmt: skip


@pytest.fixture
def free_plan(db):
    return PlanFactory(code="free", name="Free", tier=0, price_cents=0, ai_tokens_per_period=10)


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme, written out: ``t=…,v1=HMAC-SHA256(secret, f"{t}.{payload}")``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def event(event_type: str, obj: dict, *, event_id: str, created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()) if created is None else created,
            "data": {"object": obj},
        }
    )
