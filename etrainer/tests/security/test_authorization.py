"""Authorization across every object and staff endpoint (IDOR suite), driven by two tables.

Adding an endpoint is one row. A coverage test walks the URLconf and fails when an API route with
an id in its path, or a /api/system/ route, is in neither table, so a new endpoint cannot be
forgotten. Each object row has a positive control: the owner's own call must not be a 404, or
the intruder's 404 would prove nothing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from learning.tests.factories import ExamHistoryFactory
from media.tests import samples
from notifications.tests.factories import NotificationFactory
from subscriptions.services import subscription_create
from subscriptions.tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class ObjectEndpoint:
    """``make(owner)`` creates the owner's object and returns the id that goes in the path;
    ``body()`` builds the request body (after ``make``, so it may create what it names)."""

    method: str
    path: str
    make: Callable
    body: Callable[[], dict] = dict


def _subscription(owner):
    return SubscriptionFactory(user=owner).pk


def _switch_body():
    return {"plan": PlanFactory(code="other-plan").code}


def _dev_checkout_session(owner):
    """A pending paid subscription's development checkout (on in the test settings)."""
    plan = PlanFactory(code="paid-plan", price_cents=1900)
    return subscription_create(user=owner, plan_code=plan.code).checkout_session_id


def _exam(owner):
    return ExamHistoryFactory(user=owner).pk


def _notification(owner):
    return NotificationFactory(user=owner).pk


def _asset(owner):
    """Uploaded through the API (local storage), so storage has the file the info call reads."""
    image = SimpleUploadedFile("pic.png", samples.png(), content_type="image/png")
    response = bearer(owner).post("/api/uploads/images", {"files": [image]}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["files"][0]["public_id"]


OBJECT_ENDPOINTS = {
    "subscription detail": ObjectEndpoint("get", "/api/subscriptions/{id}", _subscription),
    "subscription cancel": ObjectEndpoint("post", "/api/subscriptions/{id}/cancel", _subscription),
    "subscription renew": ObjectEndpoint("post", "/api/subscriptions/{id}/renew", _subscription),
    "subscription switch": ObjectEndpoint(
        "post", "/api/subscriptions/{id}/switch", _subscription, body=_switch_body
    ),
    "dev checkout": ObjectEndpoint("get", "/api/payments/dev/checkout/{id}", _dev_checkout_session),
    "dev checkout complete": ObjectEndpoint(
        "post", "/api/payments/dev/checkout/{id}/complete", _dev_checkout_session
    ),
    "exam history detail": ObjectEndpoint("get", "/api/exams/history/{id}", _exam),
    "notification read": ObjectEndpoint("post", "/api/notifications/{id}/read", _notification),
    "upload info": ObjectEndpoint("get", "/api/uploads/{id}/info", _asset),
    "upload delete": ObjectEndpoint("delete", "/api/uploads/{id}", _asset),
}

# Routes with an id that address no user's object (the same for every caller).
SHARED_OBJECT_ROUTES = {
    "api/^courses/(?P<course_id>[^/.]+)/access$": "a course is public; the answer is the caller's",
}

STAFF_ENDPOINTS = {
    "jobs stats": ("get", "/api/system/jobs/stats"),
    "jobs schedule": ("post", "/api/system/jobs/schedule"),
    "system metrics": ("get", "/api/system/metrics"),
    "cluster status": ("get", "/api/system/cluster/status"),
    "cloudinary usage": ("get", "/api/system/cloudinary/usage"),
}


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def send(client, method: str, path: str, body: dict | None = None):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body or {}, format="json")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.RATELIMIT_ENABLE = False
    settings.MEDIA_BACKEND = "local"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize("name", sorted(OBJECT_ENDPOINTS))
def test_another_learners_object_is_404(name):
    # given an object that belongs to its owner
    endpoint = OBJECT_ENDPOINTS[name]
    owner, intruder = UserFactory(), UserFactory()
    path = endpoint.path.format(id=endpoint.make(owner))
    body = endpoint.body()

    # when another learner calls it
    response = send(bearer(intruder), endpoint.method, path, body)

    # then it does not exist for them, and it does for the owner
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"
    assert send(bearer(owner), endpoint.method, path, body).status_code not in (404, 500)


@pytest.mark.parametrize("name", sorted(OBJECT_ENDPOINTS))
def test_object_endpoints_are_401_for_anonymous_callers(name):
    endpoint = OBJECT_ENDPOINTS[name]
    path = endpoint.path.format(id=endpoint.make(UserFactory()))

    response = send(APIClient(), endpoint.method, path, endpoint.body())

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("name", sorted(STAFF_ENDPOINTS))
def test_staff_endpoints_are_403_for_learners_and_401_for_anonymous_callers(name, learner):
    method, path = STAFF_ENDPOINTS[name]

    as_learner = send(bearer(learner), method, path)
    as_anonymous = send(APIClient(), method, path)

    assert as_learner.status_code == 403
    assert as_learner.json()["error"]["code"] == "permission_denied"
    assert as_anonymous.status_code == 401
    assert as_anonymous.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("name", sorted(STAFF_ENDPOINTS))
def test_staff_endpoints_let_staff_in(name, staff_user):
    method, path = STAFF_ENDPOINTS[name]

    assert send(bearer(staff_user), method, path).status_code not in (401, 403, 404)


def _api_routes(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            yield route


def _as_template(route: str) -> str:
    template = re.sub(r"\(\?P<\w+>.*?\)(?=/|\$|$)", "{id}", route)
    return "/" + template.replace("^", "").replace("$", "")


def test_every_object_and_staff_route_is_in_a_table():
    routes = list(_api_routes())
    templates = {endpoint.path for endpoint in OBJECT_ENDPOINTS.values()}
    staff_paths = {path for _, path in STAFF_ENDPOINTS.values()}

    with_ids = [r for r in routes if "<" in r]
    missing_objects = [
        r for r in with_ids if r not in SHARED_OBJECT_ROUTES and _as_template(r) not in templates
    ]
    missing_staff = [
        r for r in routes if r.startswith("api/system/") and "/" + r not in staff_paths
    ]

    assert missing_objects == [], "add a row to OBJECT_ENDPOINTS"
    assert missing_staff == [], "add a row to STAFF_ENDPOINTS"
