from django.urls import path

from monitoring.apis import HealthView, MetricsView

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("metrics", MetricsView.as_view(), name="prometheus-metrics"),
]
