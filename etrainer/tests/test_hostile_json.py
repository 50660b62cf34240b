"""A JSON body nested deeper than Python's decoder can recurse (issue 17 item 7)."""

import pytest

from learning.models import ExamHistory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_1000_deep_is_a_400_parse_error(learner_client, opening):
    closing = "]" if opening == "[" else "}"
    body = opening * 1000 + "1" + closing * 1000

    response = learner_client.generic(
        "POST", "/api/exams/history", body, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "parse_error"
    assert not ExamHistory.objects.exists()


def test_json_nested_50_deep_is_still_parsed(learner_client):
    body = '{"exam_code": ' + "[" * 50 + "]" * 50 + "}"

    response = learner_client.generic(
        "POST", "/api/exams/history", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
