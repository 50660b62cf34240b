from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import bearer_client
from learning.models import ExamHistory, Streak
from learning.tests.factories import ExamHistoryFactory, StreakFactory

pytestmark = pytest.mark.django_db

URL = "/api/exams/history"
VALID = {"exam_code": "IELTS-R1", "score": 31, "max_score": 40, "duration_s": 3600}


def test_record_an_exam_then_see_it_and_the_streak(learner_client, learner):
    # when
    created = learner_client.post(URL, VALID, format="json")

    # then
    assert created.status_code == 201
    body = created.json()
    assert isinstance(body["id"], str)
    assert {k: body[k] for k in VALID} == VALID
    exam = ExamHistory.objects.get(pk=body["id"])
    assert exam.user == learner
    assert abs(exam.taken_at - timezone.now()) < timedelta(minutes=1)
    assert learner_client.get(f"{URL}/{body['id']}").json()["exam_code"] == "IELTS-R1"
    streak = learner_client.get("/api/streak").json()
    assert (streak["current"], streak["longest"], streak["active_today"]) == (1, 1, True)


def test_recording_counts_for_the_local_day_the_server_received_it():
    # given: a learner in UTC+7 reporting an exam taken at 23:30 yesterday, Bangkok time
    user = UserFactory(timezone="Asia/Bangkok")
    client = bearer_client(user)
    bangkok_now = timezone.now().astimezone(timezone.get_fixed_timezone(7 * 60))
    yesterday_2330 = (bangkok_now - timedelta(days=1)).replace(hour=23, minute=30)

    # when
    response = client.post(URL, {**VALID, "taken_at": yesterday_2330.isoformat()}, format="json")

    # then: the client's time is stored, the streak counts today (when the server got it)
    assert response.status_code == 201
    assert Streak.objects.get(user=user).last_active_on == bangkok_now.date()


BAD_INPUTS = {
    "score above max_score": ({"score": 41}, "score"),
    "negative duration": ({"duration_s": -1}, "duration_s"),
    "taken_at in the future": (
        {"taken_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
        "taken_at",
    ),
    "unknown field": ({"passed": True}, "passed"),
    "exam code over 64 characters": ({"exam_code": "X" * 65}, "exam_code"),
    "blank exam code": ({"exam_code": ""}, "exam_code"),
    "negative score": ({"score": -5}, "score"),
    "zero max_score": ({"max_score": 0}, "max_score"),
    "score not a number": ({"score": "lots"}, "score"),
    "malformed taken_at": ({"taken_at": "yesterday"}, "taken_at"),
    "taken_at in year 1": ({"taken_at": "0001-01-01T00:00:00-05:00"}, "taken_at"),
}


@pytest.mark.parametrize(("change", "field"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_a_400_envelope_and_stores_nothing(learner_client, change, field):
    response = learner_client.post(URL, {**VALID, **change}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]["fields"]
    assert ExamHistory.objects.count() == 0
    assert Streak.objects.count() == 0


def test_missing_fields_are_reported_together(learner_client):
    response = learner_client.post(URL, {}, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["details"]["fields"]
    assert set(fields) == {"exam_code", "score", "max_score", "duration_s"}


def test_a_json_array_body_is_a_400_envelope(learner_client):
    response = learner_client.post(URL, [VALID], format="json")

    assert response.status_code == 400
    assert ExamHistory.objects.count() == 0


def test_list_is_mine_only_newest_first_with_cursor_pages(learner_client, learner):
    # given
    now = timezone.now()
    mine = [ExamHistoryFactory(user=learner, taken_at=now - timedelta(hours=h)) for h in range(5)]
    ExamHistoryFactory(taken_at=now)

    # when
    first = learner_client.get(URL, {"page_size": 2}).json()
    second = learner_client.get(first["next"]).json()
    third = learner_client.get(second["next"]).json()

    # then
    ids = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert ids == [str(exam.pk) for exam in mine]
    assert third["next"] is None
    assert "count" not in first


def test_list_filters_by_exam_code_and_date_range(learner_client, learner):
    # given
    base = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    for day, code in enumerate(["A", "B", "A", "A", "B"]):
        ExamHistoryFactory(user=learner, exam_code=code, taken_at=base + timedelta(days=day))

    # when
    by_code = learner_client.get(URL, {"exam_code": "A"}).json()["results"]
    by_range = learner_client.get(
        URL, {"taken_after": "2026-01-11T00:00:00Z", "taken_before": "2026-01-13T12:00:00Z"}
    ).json()["results"]
    both = learner_client.get(
        URL, {"exam_code": "B", "taken_after": "2026-01-12T00:00:00Z"}
    ).json()["results"]

    # then
    assert [r["taken_at"][:10] for r in by_code] == ["2026-01-13", "2026-01-12", "2026-01-10"]
    assert [r["taken_at"][:10] for r in by_range] == ["2026-01-12", "2026-01-11"]
    assert [r["taken_at"][:10] for r in both] == ["2026-01-14"]


@pytest.mark.parametrize(
    "params",
    [
        {"taken_after": "not-a-date"},
        {"taken_before": "2026-13-01"},
        {"taken_after": "2026-02-01T00:00:00Z", "taken_before": "2026-01-01T00:00:00Z"},
        {"exam_code": "X" * 65},
    ],
)
def test_bad_filters_are_a_400_envelope(learner_client, params):
    response = learner_client.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_list_query_count_does_not_grow_with_rows(learner_client, learner):
    def queries_for(rows: int) -> int:
        ExamHistoryFactory._meta.model.objects.filter(user=learner).delete()
        ExamHistoryFactory.create_batch(rows, user=learner)
        with CaptureQueriesContext(connection) as queries:
            response = learner_client.get(URL, {"page_size": 50})
        assert len(response.json()["results"]) == rows
        return len(queries)

    one, fifty = queries_for(1), queries_for(50)

    # at most the user (JWT authentication) and one page; never a query per row
    assert one == fifty <= 2


def test_another_users_exam_is_404(learner_client):
    other = ExamHistoryFactory()

    response = learner_client.get(f"{URL}/{other.pk}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("exam_id", ["not-an-id", "999999999", "507f1f77bcf86cd799439011"])
def test_unknown_or_malformed_exam_id_is_404(learner_client, exam_id):
    assert learner_client.get(f"{URL}/{exam_id}").status_code == 404


def test_streak_of_a_new_learner_costs_at_most_two_queries(
    learner_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        response = learner_client.get("/api/streak")

    assert response.status_code == 200
    assert response.json() == {
        "current": 0,
        "longest": 0,
        "last_active_on": None,
        "today": datetime.now(UTC).date().isoformat(),
        "active_today": False,
    }


def test_streak_is_shown_in_the_users_timezone():
    # given: in UTC+14 it is already tomorrow for most of the UTC day
    user = UserFactory(timezone="Pacific/Kiritimati")
    local_today = timezone.now().astimezone(timezone.get_fixed_timezone(14 * 60)).date()
    StreakFactory(user=user, current=3, longest=3, last_active_on=local_today)

    # when
    body = bearer_client(user).get("/api/streak").json()

    # then
    assert body == {
        "current": 3,
        "longest": 3,
        "last_active_on": local_today.isoformat(),
        "today": local_today.isoformat(),
        "active_today": True,
    }


@pytest.mark.parametrize(
    ("method", "path"), [("get", URL), ("post", URL), ("get", f"{URL}/1"), ("get", "/api/streak")]
)
def test_anonymous_is_401(api_client, method, path):
    response = getattr(api_client, method)(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
