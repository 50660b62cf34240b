from django.urls import path

from jobs.apis import JobScheduleApi, JobStatsApi

urlpatterns = [
    path("system/jobs/stats", JobStatsApi.as_view(), name="jobs-stats"),
    path("system/jobs/schedule", JobScheduleApi.as_view(), name="jobs-schedule"),
]
