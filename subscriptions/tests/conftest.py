import pytest
import redis

from subscriptions.tests.factories import (
    AiTokenAccountFactory,
    CourseFactory,
    PlanFactory,
    SubscriptionFactory,
)


@pytest.fixture
def basic_plan(db):
    return PlanFactory(code="basic", name="Basic", tier=1, ai_tokens_per_period=100)


@pytest.fixture
def pro_plan(db):
    return PlanFactory(code="pro", name="Pro", tier=2, ai_tokens_per_period=500)


@pytest.fixture
def subscribed_learner(learner, basic_plan):
    """A learner on the basic plan with a token account of 100, 10 used."""
    SubscriptionFactory(user=learner, plan=basic_plan)
    AiTokenAccountFactory(user=learner, quota=100, used=10)
    return learner


@pytest.fixture
def pro_course(db):
    return CourseFactory(code="pro-course", min_tier=2)


@pytest.fixture
def redis_client(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()
