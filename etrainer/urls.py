"""The project's routes: each app's patterns included by module name (the project imports no app).

Every app is mounted directly at ``api/`` rather than nested in one ``api/`` include: each include
level costs every request a resolver match, and the patterns are tried in order, so the access
checks (subscriptions) come first.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from etrainer.api.views import api_not_found

API_URLCONFS = [
    "subscriptions.urls",
    "accounts.urls",
    "learning.urls",
    "notifications.urls",
    "media.urls",
    "jobs.urls",
    "monitoring.api_urls",
    "payments.urls",
]

api_tail = [
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Last: what no route above matched (DEBUG on included) answers the JSON envelope.
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    *(path("api/", include(urlconf)) for urlconf in API_URLCONFS),
    path("api/", include(api_tail)),
    path("admin/", admin.site.urls),
    path(settings.MEDIA_URL.strip("/") + "/", include("media.file_urls")),
    path("", include("monitoring.urls")),
]

handler400 = "etrainer.api.views.bad_request"
handler403 = "etrainer.api.views.permission_denied"
handler404 = "etrainer.api.views.page_not_found"
handler500 = "etrainer.api.views.server_error"
