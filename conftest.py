"""Shared fixtures: the run's real redis-server, API clients and users."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from etrainer.redis_breaker import breaker
from etrainer.testing.plugin import session_redis_server


@pytest.fixture
def redis_server():
    """The test run's redis-server. A test may stop or pause it; it is running again afterwards."""
    server = session_redis_server()
    yield server
    server.ensure_running()
    breaker.reset()


@pytest.fixture(autouse=True)
def _fresh_cache():
    breaker.reset()
    yield
    breaker.reset()
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def learner(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff_user(db):
    from accounts.tests.factories import StaffFactory

    return StaffFactory()


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def learner_client(learner) -> APIClient:
    return bearer_client(learner)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return bearer_client(staff_user)
