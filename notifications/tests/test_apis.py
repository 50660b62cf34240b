from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification, NotificationChannel
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

URL = "/api/notifications"


def test_list_is_mine_only_newest_first(learner_client, learner):
    # given
    mine = NotificationFactory.create_batch(3, user=learner)
    NotificationFactory()

    # when
    response = learner_client.get(URL)

    # then
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [str(n.pk) for n in reversed(mine)]
    assert set(rows[0]) == {
        "id", "kind", "channel", "title", "body", "payload", "created_at", "read_at", "sent_at",
    }  # fmt: skip


def test_list_pages_with_a_cursor(learner_client, learner):
    NotificationFactory.create_batch(5, user=learner)

    first = learner_client.get(URL, {"page_size": 3}).json()
    second = learner_client.get(first["next"]).json()

    assert len(first["results"]) == 3
    assert len(second["results"]) == 2
    assert second["next"] is None


def test_unread_and_channel_filters(learner_client, learner):
    # given
    read = NotificationFactory(user=learner, read_at=timezone.now())
    unread = NotificationFactory(user=learner)
    email = NotificationFactory(user=learner, channel=NotificationChannel.EMAIL)

    # when
    def ids(params):
        return {row["id"] for row in learner_client.get(URL, params).json()["results"]}

    # then
    assert ids({"unread": "true"}) == {str(unread.pk), str(email.pk)}
    assert ids({"unread": "false"}) == {str(read.pk)}
    assert ids({}) == {str(read.pk), str(unread.pk), str(email.pk)}
    assert ids({"channel": "email"}) == {str(email.pk)}


@pytest.mark.parametrize("params", [{"unread": "maybe"}, {"channel": "pigeon"}])
def test_bad_filters_are_a_400_envelope(learner_client, params):
    response = learner_client.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_list_query_count_does_not_grow_with_rows(learner_client, learner):
    def queries_for(rows: int) -> int:
        NotificationFactory._meta.model.objects.filter(user=learner).delete()
        NotificationFactory.create_batch(rows, user=learner)
        with CaptureQueriesContext(connection) as queries:
            response = learner_client.get(URL, {"page_size": 50, "unread": "true"})
        assert len(response.json()["results"]) == rows
        return len(queries)

    one, fifty = queries_for(1), queries_for(50)

    # at most the user (JWT authentication) and one page; never a query per row
    assert one == fifty <= 2


def test_mark_one_read_is_idempotent(learner_client, learner):
    notification = NotificationFactory(user=learner)

    first = learner_client.post(f"{URL}/{notification.pk}/read")
    second = learner_client.post(f"{URL}/{notification.pk}/read")

    assert first.status_code == 200
    assert first.json()["read_at"] is not None
    assert second.json()["read_at"] == first.json()["read_at"]


def test_marking_another_users_notification_is_404_and_changes_nothing(learner_client):
    other = NotificationFactory()

    response = learner_client.post(f"{URL}/{other.pk}/read")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    other.refresh_from_db()
    assert other.read_at is None


@pytest.mark.parametrize("notification_id", ["nonsense", "999999999", "507f1f77bcf86cd799439011"])
def test_unknown_or_malformed_id_is_404(learner_client, notification_id):
    assert learner_client.post(f"{URL}/{notification_id}/read").status_code == 404


def test_mark_all_read_marks_only_my_unread(learner_client, learner):
    # given
    earlier = timezone.now() - timedelta(days=1)
    NotificationFactory(user=learner, read_at=earlier)
    NotificationFactory.create_batch(2, user=learner)
    other = NotificationFactory()

    # when
    response = learner_client.post(f"{URL}/read-all")

    # then
    assert response.json() == {"marked": 2}
    assert not Notification.objects.filter(user=learner, read_at__isnull=True).exists()
    assert Notification.objects.get(user=learner, read_at__lt=timezone.now() - timedelta(hours=1))
    other.refresh_from_db()
    assert other.read_at is None


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", URL), ("post", f"{URL}/1/read"), ("post", f"{URL}/read-all")],
)
def test_anonymous_is_401(api_client, method, path):
    assert getattr(api_client, method)(path).status_code == 401


def test_get_on_mark_read_is_405(learner_client, learner):
    notification = NotificationFactory(user=learner)

    response = learner_client.get(f"{URL}/{notification.pk}/read")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
