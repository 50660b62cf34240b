"""Bearer GETs of the access checks skip DRF's dispatch; clients must not see a difference."""

import pytest
from rest_framework.test import APIClient

from conftest import bearer_client
from subscriptions.tests.factories import CourseGrantFactory

pytestmark = pytest.mark.django_db


def full_dispatch_client(user) -> APIClient:
    """No Authorization header: the request takes DRF's own dispatch (session login)."""
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/api/me/access", "course"])
def test_fast_path_answers_exactly_what_drf_answers(subscribed_learner, pro_course, path):
    CourseGrantFactory(user=subscribed_learner, course=pro_course)
    path = f"/api/courses/{pro_course.pk}/access" if path == "course" else path

    fast = bearer_client(subscribed_learner).get(path)
    full = full_dispatch_client(subscribed_learner).get(path)

    assert fast.status_code == full.status_code == 200
    assert fast["Content-Type"] == full["Content-Type"] == "application/json"
    assert fast.json() == full.json()


def test_fast_path_refuses_a_forged_token_with_the_envelope_and_challenge(subscribed_learner):
    client = bearer_client(subscribed_learner)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"][:-3] + "abc")

    response = client.get("/api/me/access")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_other_methods_keep_drf_dispatch(learner_client):
    response = learner_client.post("/api/me/access", {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_fast_path_errors_keep_the_envelope(learner_client):
    response = learner_client.get("/api/courses/no-such-course/access")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
