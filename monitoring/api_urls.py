from django.urls import path

from monitoring.apis import CloudinaryUsageApi, ClusterStatusApi, SystemMetricsApi

urlpatterns = [
    path("system/metrics", SystemMetricsApi.as_view(), name="system-metrics"),
    path("system/cluster/status", ClusterStatusApi.as_view(), name="system-cluster-status"),
    path("system/cloudinary/usage", CloudinaryUsageApi.as_view(), name="system-cloudinary-usage"),
]
