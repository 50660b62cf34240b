import pytest

from learning.tests.factories import ExamHistoryFactory, StreakFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["examhistory", "streak"])
def test_staff_can_list_search_and_open_learning_records(admin_client, model):
    exam = ExamHistoryFactory(exam_code="TOEFL-1")
    streak = StreakFactory(current=3, longest=5)
    obj = exam if model == "examhistory" else streak

    listing = admin_client.get(f"/admin/learning/{model}/", {"q": "toefl"})
    change = admin_client.get(f"/admin/learning/{model}/{obj.pk}/change/")

    assert listing.status_code == 200
    assert change.status_code == 200
