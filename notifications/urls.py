from django.urls import path, re_path

from notifications.apis import (
    NotificationListApi,
    NotificationMarkAllReadApi,
    NotificationMarkReadApi,
)

urlpatterns = [
    path("notifications", NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/read-all",
        NotificationMarkAllReadApi.as_view(),
        name="notification-mark-all-read",
    ),
    re_path(
        r"^notifications/(?P<notification_id>[^/.]+)/read$",
        NotificationMarkReadApi.as_view(),
        name="notification-mark-read",
    ),
]
