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
        ("/api/exams/history", "PaginatedExamHistoryList", False),
        ("/api/notifications", "PaginatedNotificationList", False),
    ],
)
def test_list_endpoints_are_documented_as_pages(schema, path, component, has_count):
    assert response_schema(schema, path) == {"$ref": f"#/components/schemas/{component}"}
    properties = schema["components"]["schemas"][component]["properties"]
    assert {"next", "previous", "results"} <= set(properties)
    assert ("count" in properties) is has_count
