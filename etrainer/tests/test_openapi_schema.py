import pytest
import yaml
from django.core.management import call_command


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def response_schema(schema, path: str) -> dict:
    content = schema["paths"][path]["get"]["responses"]["200"]["content"]
    return content["application/json"]["schema"]


def test_the_schema_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert "/api/me/access" in schema["paths"]


@pytest.mark.parametrize(
    ("path", "component", "has_count"),
    [
        ("/api/plans", "PaginatedPlanList", True),
        ("/api/subscriptions", "PaginatedSubscriptionList", True),
        ("/api/courses", "PaginatedCourseList", True),
        ("/api/payments", "PaginatedPaymentList", True),
        ("/api/exams/history", "PaginatedExamHistoryList", False),
        ("/api/notifications", "PaginatedNotificationList", False),
    ],
)
def test_list_endpoints_are_documented_as_pages(schema, path, component, has_count):
    assert response_schema(schema, path) == {"$ref": f"#/components/schemas/{component}"}
    properties = schema["components"]["schemas"][component]["properties"]
    assert {"next", "previous", "results"} <= set(properties)
    assert ("count" in properties) is has_count


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.mark.parametrize("path", ["/api/me/access", "/api/courses/{course_id}/access"])
def test_the_access_checks_are_described_for_clients_not_by_an_internal_docstring(schema, path):
    description = schema["paths"][path]["get"]["description"]

    assert "Mixin" not in description
    assert "APIView" not in description
    assert "plan" in description


def test_no_operation_shows_a_developer_docstring(schema):
    for path, method, operation in operations(schema):
        assert "Mixin for" not in operation.get("description", ""), (method, path)


def test_one_bearer_scheme_for_every_jwt_operation(schema):
    schemes = schema["components"]["securitySchemes"]
    bearer = [name for name, scheme in schemes.items() if scheme.get("scheme") == "bearer"]

    assert bearer == ["jwtAuth"]
    for path, method, operation in operations(schema):
        for requirement in operation.get("security", []):
            assert set(requirement) <= set(schemes), (method, path)


def test_every_paginated_list_documents_its_paging_parameters(schema):
    paginated = 0
    for path, _method, operation in operations(schema):
        ok = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if not ok.get("schema", {}).get("$ref", "").startswith("#/components/schemas/Paginated"):
            continue
        paginated += 1
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert "page_size" in names, path
        assert names & {"page", "cursor"}, path
        assert "404" in operation["responses"], path  # a page past the end, a bad cursor
    assert paginated == 6


@pytest.mark.parametrize(
    ("method", "path", "statuses", "absent"),
    [
        ("post", "/api/subscriptions", {"400", "401", "409", "413", "415", "429"}, {"403"}),
        ("post", "/api/subscriptions/{subscription_id}/cancel", {"401", "404", "409"}, {"403"}),
        ("post", "/api/ai-tokens/consume", {"400", "401", "409", "429"}, {"404"}),
        ("get", "/api/courses/{course_id}/access", {"401", "404", "429"}, {"403", "409"}),
        ("get", "/api/system/jobs/stats", {"401", "403", "429"}, {"404"}),
        ("post", "/api/uploads/images", {"400", "401", "413", "415", "429"}, {"403"}),
        ("post", "/api/auth/token", {"400", "401", "429"}, {"403", "404"}),
        ("get", "/api/plans", {"429"}, {"401", "403"}),
        ("get", "/api/me", {"401", "429"}, {"403", "404", "409"}),
    ],
)
def test_operations_list_the_errors_they_can_answer_and_no_other(
    schema, method, path, statuses, absent
):
    responses = set(schema["paths"][path][method]["responses"])

    assert statuses <= responses
    assert not absent & responses


def test_every_error_response_is_the_envelope_and_429_names_retry_after(schema):
    for path, _method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == ENVELOPE, (path, status)
        assert "Retry-After" in operation["responses"]["429"]["headers"], path
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    error = schema["components"]["schemas"][envelope["properties"]["error"]["$ref"].split("/")[-1]]
    assert set(error["properties"]) == {"code", "message", "details"}


def test_plans_document_their_prices_per_currency(schema):
    plan = schema["components"]["schemas"]["PlanOutput"]["properties"]
    price = schema["components"]["schemas"]["PriceOutput"]["properties"]

    assert plan["prices"]["items"] == {"$ref": "#/components/schemas/PriceOutput"}
    assert {"amount", "currency", "decimals", "display"} <= set(price)
    subscribe = schema["paths"]["/api/subscriptions"]["post"]["requestBody"]["content"]
    ref = subscribe["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "currency" in schema["components"]["schemas"][ref]["properties"]
