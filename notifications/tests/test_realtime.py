"""The publisher side of WebSocket notifications, in process, on the run's real Redis."""

import asyncio
import time

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from prometheus_client import REGISTRY

from etrainer.db import atomic
from etrainer.tests.subprocess_env import manage
from notifications.models import Notification
from notifications.realtime import RedisConnectionRegistry, notifications_publish, user_group
from notifications.services import notify


@pytest.fixture
def subscriber(learner):
    """A raw Redis subscriber on the channel the layer uses for the learner's group."""
    client = redis.Redis.from_url(settings.CHANNEL_LAYER_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{settings.CHANNEL_LAYER_PREFIX}__group__{user_group(learner.pk)}")
    yield pubsub
    pubsub.close()
    client.close()


def next_event(pubsub, timeout: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.05)
        if message is not None:
            return get_channel_layer().deserialize(message["data"])
    return None


def failures() -> float:
    sample = REGISTRY.get_sample_value("etrainer_ws_send_failures_total", {"stage": "publish"})
    return sample or 0.0


def test_notify_publishes_the_rest_representation_after_commit(
    learner, learner_client, subscriber, django_capture_on_commit_callbacks
):
    # when: the row is stored inside a transaction that has not committed yet, then it commits
    # (on SQL the test's own transaction never commits: the capture runs the callbacks after it)
    with django_capture_on_commit_callbacks(execute=True), atomic():
        notify(user=learner, kind="system", title="Welcome", body="Hello.", payload={"a": 1})
        before_commit = next_event(subscriber, timeout=0.2)
    event = next_event(subscriber)

    # then: one message, after the commit, shaped like GET /api/notifications
    assert before_commit is None
    [listed] = learner_client.get("/api/notifications").json()["results"]
    assert event == {"type": "notification.push", "notification": listed}
    assert next_event(subscriber, timeout=0.2) is None


def test_a_duplicate_notify_publishes_nothing(
    learner, subscriber, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(user=learner, kind="system", title="Once", dedupe_key="once:1")
    assert next_event(subscriber) is not None

    with django_capture_on_commit_callbacks(execute=True):
        result = notify(user=learner, kind="system", title="Once", dedupe_key="once:1")

    assert result.created is False
    assert next_event(subscriber, timeout=0.2) is None


def test_redis_down_never_fails_notify_and_is_counted(
    learner, redis_server, django_capture_on_commit_callbacks
):
    before = failures()
    redis_server.stop()

    with django_capture_on_commit_callbacks(execute=True):
        result = notify(user=learner, kind="system", title="Still stored")

    assert result.created is True
    assert result.notification.pk is not None
    assert failures() == before + 1


def test_leases_of_a_crashed_process_lapse_so_the_cap_frees_itself(redis_server):
    registry = RedisConnectionRegistry(settings.CHANNEL_LAYER_URL, "etr-test", lease_seconds=0.5)

    async def scenario():
        taken = [await registry.acquire("u1", f"c{i}", cap=2) for i in range(3)]
        await asyncio.sleep(0.3)
        await registry.renew("u1", "c0")  # c0's process is alive, c1's has "crashed"
        await asyncio.sleep(0.35)
        after_lapse = [
            await registry.acquire("u1", "c3", cap=2),
            await registry.acquire("u1", "c4", cap=2),
        ]
        await registry.release("u1", "c0")
        after_release = await registry.acquire("u1", "c5", cap=2)
        return taken, after_lapse, after_release

    taken, after_lapse, after_release = asyncio.run(scenario())

    assert taken == [True, True, False]
    assert after_lapse == [True, False]
    assert after_release is True


def test_channel_layer_is_redis_from_the_env_and_in_memory_only_without_it():
    probe = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"

    embedded = manage(
        "shell",
        "-c",
        probe,
        env={"DJANGO_SETTINGS_MODULE": "etrainer.settings.local", "REDIS_URL": ""},
    )
    on_redis = manage(
        "shell", "-c", probe,
        env={"DJANGO_SETTINGS_MODULE": "etrainer.settings.local", "REDIS_URL": "",
             "CHANNEL_LAYER_URL": "redis://127.0.0.1:6399/2"},
    )  # fmt: skip

    assert embedded.stdout.split()[-1] == "channels.layers.InMemoryChannelLayer", embedded.stderr
    assert on_redis.stdout.split()[-1] == "channels_redis.pubsub.RedisPubSubChannelLayer", (
        on_redis.stderr
    )


def test_the_bulk_form_publishes_every_stored_notification_after_commit(
    learner, subscriber, django_capture_on_commit_callbacks
):
    stored = [
        Notification.objects.create(user=learner, kind="system", title=f"N{i}", dedupe_key=f"k{i}")
        for i in range(3)
    ]
    unsaved = Notification(user=learner, kind="system", title="never stored", dedupe_key="x")

    with django_capture_on_commit_callbacks(execute=True):
        notifications_publish(notifications=[*stored, unsaved])

    titles = [next_event(subscriber)["notification"]["title"] for _ in stored]
    assert titles == ["N0", "N1", "N2"]
    assert next_event(subscriber, timeout=0.2) is None
