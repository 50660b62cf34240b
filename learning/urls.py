from django.urls import path, re_path

from learning.apis import ExamHistoryApi, ExamHistoryDetailApi, StreakApi

urlpatterns = [
    path("exams/history", ExamHistoryApi.as_view(), name="exam-history"),
    re_path(
        r"^exams/history/(?P<exam_id>[^/.]+)$",
        ExamHistoryDetailApi.as_view(),
        name="exam-history-detail",
    ),
    path("streak", StreakApi.as_view(), name="streak"),
]
