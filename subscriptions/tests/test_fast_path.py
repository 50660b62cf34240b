"""Bearer GETs of the access checks skip DRF's dispatch; clients must not see a difference."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from rest_framework.permissions import BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from conftest import bearer_client
from subscriptions.apis import MyAccessApi
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
    token = str(AccessToken.for_user(subscribed_learner))
    forged = token[:-3] + ("xyz" if token.endswith("abc") else "abc")  # a signature that fails

    response = APIClient().get("/api/me/access", HTTP_AUTHORIZATION=f"Bearer {forged}")

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


def bearer_get(user, path="/api/me/access"):
    token = AccessToken.for_user(user)
    return RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_staff_only_permission_on_a_fast_path_view_refuses_a_learners_bearer_get(
    subscribed_learner, staff_user
):
    # given the access check with a staff-only permission added
    class StaffOnlyAccessApi(MyAccessApi):
        permission_classes = [IsAuthenticated, IsAdminUser]

    view = StaffOnlyAccessApi.as_view()

    # when a learner and a staff member call it with their bearer tokens
    learner_response = view(bearer_get(subscribed_learner))
    staff_response = view(bearer_get(staff_user))

    # then the learner is refused in the envelope, the staff member served
    assert learner_response.status_code == 403
    assert json.loads(learner_response.content)["error"]["code"] == "permission_denied"
    assert staff_response.status_code == 200
    assert view(bearer_get(subscribed_learner)).status_code == 403  # not only on first use


def test_a_throttle_on_a_fast_path_view_is_refused_when_the_class_is_created():
    with pytest.raises(ImproperlyConfigured, match="throttle"):

        class ThrottledAccessApi(MyAccessApi):
            throttle_classes = [UserRateThrottle]


def test_a_permission_the_fast_path_cannot_vouch_for_is_refused_when_the_class_is_created():
    class ReadsTheQueryString(BasePermission):
        def has_permission(self, request, view):
            return request.query_params.get("ok") == "1"

    with pytest.raises(ImproperlyConfigured, match="ReadsTheQueryString"):

        class CustomAccessApi(MyAccessApi):
            permission_classes = [IsAuthenticated, ReadsTheQueryString]
