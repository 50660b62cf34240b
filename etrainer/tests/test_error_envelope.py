import pytest
from rest_framework.test import APIClient


def assert_envelope(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


@pytest.mark.django_db
def test_validation_error_is_400_with_field_details(api_client):
    response = api_client.post("/api/auth/token", {"email": "someone@example.com"}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "password" in error["details"]["fields"]


@pytest.mark.django_db
def test_malformed_json_is_400_parse_error(api_client):
    response = api_client.post("/api/auth/token", "{not json", content_type="application/json")

    assert_envelope(response, 400, "parse_error")


@pytest.mark.django_db
def test_missing_credentials_is_401(api_client):
    response = api_client.get("/api/me")

    assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_forged_token_is_401_token_not_valid(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    response = api_client.get("/api/me")

    assert_envelope(response, 401, "token_not_valid")


@pytest.mark.django_db
def test_unknown_api_path_is_404_json_not_html(api_client):
    response = api_client.get("/api/no-such-endpoint")

    assert_envelope(response, 404, "not_found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_to_an_unknown_api_path_is_404_not_a_csrf_refusal(method):
    # a bearer client: no session cookie, so Django's CSRF check would refuse it with a 403
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-checked-for-an-unknown-path")

    response = getattr(client, method)("/api/uploads/has%20a%20space")

    assert_envelope(response, 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_api_path_is_json_with_debug_on_and_off(client, settings, debug):
    settings.DEBUG = debug

    response = client.get("/api/v2/no-such-endpoint", HTTP_ACCEPT="text/html")

    assert_envelope(response, 404, "not_found")


@pytest.mark.parametrize("accept", ["", "*/*", "application/json"])
def test_unknown_path_outside_the_api_is_json_for_a_client_that_wants_no_page(client, accept):
    response = client.get("/no-such-page", HTTP_ACCEPT=accept)

    assert_envelope(response, 404, "not_found")


def test_unknown_path_outside_the_api_keeps_the_html_page_for_a_browser(client):
    response = client.get("/no-such-page", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/plans", "/admin/login/", "/no-such-page"])
def test_a_host_outside_allowed_hosts_is_400_json(client, settings, path):
    settings.ALLOWED_HOSTS = ["api.example.com"]

    response = client.get(path, HTTP_HOST="evil.example.net")

    assert_envelope(response, 400, "bad_request")


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_health_answers_a_probe_by_address_outside_allowed_hosts(
    client, settings, redis_server, debug
):
    settings.DEBUG = debug
    settings.ALLOWED_HOSTS = ["api.example.com"]

    response = client.get("/health", HTTP_HOST="10.0.3.7:8000")

    assert response.status_code == 200
    assert response.json()["components"]["database"]["status"] == "up"


@pytest.mark.django_db
def test_metrics_answer_a_scrape_by_address_outside_allowed_hosts(client, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]

    response = client.get("/metrics", HTTP_HOST="app-3:8000", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"# TYPE" in response.content


@pytest.mark.django_db
def test_wrong_method_is_405(learner_client):
    response = learner_client.put("/api/me", {}, format="json")  # DELETE erases the account

    assert_envelope(response, 405, "method_not_allowed")


@pytest.mark.urls("etrainer.tests.crash_urls")
def test_unhandled_error_in_an_api_view_is_500_without_traceback(api_client):
    response = api_client.get("/api/test/crash")

    error = assert_envelope(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["message"] == "Internal server error."


@pytest.mark.urls("etrainer.tests.crash_urls")
def test_unhandled_error_in_a_plain_django_view_under_api_is_500_json():
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/test/django-crash")

    assert_envelope(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()


def test_every_response_carries_a_request_id(client):
    response = client.get("/api/no-such-endpoint", HTTP_X_REQUEST_ID="proxy-id-12345678")

    assert response["X-Request-ID"] == "proxy-id-12345678"
    assert (
        len(client.get("/api/no-such-endpoint", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32
    )


@pytest.mark.urls("etrainer.tests.crash_urls")
def test_too_many_form_fields_is_400_not_500(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3

    response = api_client.post("/api/test/echo", {f"f{i}": "x" for i in range(10)})

    assert_envelope(response, 400, "parse_error")


@pytest.mark.urls("etrainer.tests.crash_urls")
def test_oversized_form_body_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = api_client.post("/api/test/echo", {"field": "x" * 1000})

    assert_envelope(response, 413, "payload_too_large")


@pytest.mark.urls("etrainer.tests.crash_urls")
def test_an_unreachable_database_is_503_with_retry_after(api_client):
    response = api_client.get("/api/test/database-down")

    assert_envelope(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert "127.0.0.1" not in response.content.decode()
