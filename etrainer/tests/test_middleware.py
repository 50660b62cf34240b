"""Browser-session middleware is skipped for bearer-token API calls, and only for those."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from etrainer.middleware import AuthenticationMiddleware, is_token_api_request

pytestmark = pytest.mark.django_db

BEARER = {"HTTP_AUTHORIZATION": "Bearer abc.def.ghi"}


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/api/me/access", BEARER, True),
        ("/api/me/access", {**BEARER, "HTTP_COOKIE": "sessionid=x"}, False),
        ("/api/me/access", {}, False),
        ("/api/me/access", {"HTTP_AUTHORIZATION": "Basic dXNlcjpwdw=="}, False),
        ("/admin/", BEARER, False),
        ("/health", BEARER, False),
    ],
)
def test_only_cookieless_bearer_api_calls_count_as_token_api_requests(path, headers, expected):
    assert is_token_api_request(RequestFactory().get(path, **headers)) is expected


def test_a_token_api_call_gets_no_session_cookie_and_no_session_work(learner_client):
    response = learner_client.get("/api/me")

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not hasattr(response.wsgi_request, "session")


def test_a_session_login_still_works_on_the_api(learner):
    client = APIClient()
    client.force_login(learner)

    response = client.get("/api/me")

    assert response.status_code == 200
    assert response.json()["email"] == learner.email
    assert hasattr(response.wsgi_request, "session")


def test_a_bearer_call_that_also_sends_a_cookie_keeps_the_full_stack(learner_client):
    learner_client.cookies["sessionid"] = "not-a-session"

    response = learner_client.get("/api/me")

    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")


def test_a_token_api_request_reaches_views_as_anonymous_until_drf_verifies_the_token():
    seen = {}

    def view(request):
        seen["user"] = request.user
        return HttpResponse()

    request = RequestFactory().get("/api/anything", **BEARER)
    AuthenticationMiddleware(view)(request)

    assert seen["user"].is_anonymous


ORIGIN = "https://app.etrainer.example"
