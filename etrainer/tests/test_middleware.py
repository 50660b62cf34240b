"""Browser-session middleware is skipped for bearer-token API calls, and only for those."""

import pytest
from django.test import RequestFactory

from etrainer.middleware import is_token_api_request

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
    from rest_framework.test import APIClient

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
    from django.http import HttpResponse

    from etrainer.middleware import AuthenticationMiddleware

    seen = {}

    def view(request):
        seen["user"] = request.user
        return HttpResponse()

    request = RequestFactory().get("/api/anything", **BEARER)
    AuthenticationMiddleware(view)(request)

    assert seen["user"].is_anonymous


ORIGIN = "https://app.etrainer.example"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("get", "/api/me/access", BEARER),
        ("get", "/api/me/access", {**BEARER, "HTTP_ORIGIN": ORIGIN}),
        ("get", "/api/me/access", {**BEARER, "HTTP_ORIGIN": "https://evil.example"}),
        ("options", "/api/me/access", {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}),
        (
            "options",
            "/api/me/access",
            {"HTTP_ORIGIN": ORIGIN, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"},
        ),
        ("get", "/health", {"HTTP_ORIGIN": ORIGIN}),
        ("get", "/health", {}),
    ],
)
def test_cors_answers_exactly_as_django_cors_headers_does(settings, method, path, headers):
    from corsheaders.middleware import CorsMiddleware as StockCorsMiddleware
    from django.http import HttpResponse

    from etrainer.middleware import CorsMiddleware

    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    def answers(middleware_class):
        request = getattr(RequestFactory(), method)(path, **headers)
        return dict(middleware_class(lambda request: HttpResponse("ok")).__call__(request).items())

    assert answers(CorsMiddleware) == answers(StockCorsMiddleware)


def test_cors_does_not_convert_the_headers_of_a_request_without_origin():
    from django.http import HttpResponse

    from etrainer.middleware import CorsMiddleware

    request = RequestFactory().get("/api/me/access", **BEARER)
    response = CorsMiddleware(lambda request: HttpResponse("ok"))(request)

    assert response["Vary"] == "origin"
    assert "headers" not in request.__dict__


def test_the_project_runs_its_cors_middleware_in_place_of_the_stock_one(settings):
    assert "etrainer.middleware.CorsMiddleware" in settings.MIDDLEWARE
    assert "corsheaders.middleware.CorsMiddleware" not in settings.MIDDLEWARE
