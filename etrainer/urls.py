from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import urlpatterns as accounts_urls
from etrainer.api.views import api_not_found
from jobs.urls import urlpatterns as jobs_urls
from learning.urls import urlpatterns as learning_urls
from media.urls import file_urlpatterns as media_file_urls
from media.urls import urlpatterns as media_urls
from monitoring.api_urls import urlpatterns as monitoring_api_urls
from notifications.urls import urlpatterns as notifications_urls
from payments.urls import urlpatterns as payments_urls
from subscriptions.urls import urlpatterns as subscriptions_urls

# One flat list under api/, the access checks first: each nested include costs every request a
# resolver level, and the patterns are tried in order.
api_patterns = [
    *subscriptions_urls,
    *accounts_urls,
    *learning_urls,
    *notifications_urls,
    *media_urls,
    *jobs_urls,
    *monitoring_api_urls,
    *payments_urls,
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Last: what no route above matched (DEBUG on included) answers the JSON envelope.
    re_path(r"^.*$", api_not_found),
]

urlpatterns = [
    path("api/", include(api_patterns)),
    path("admin/", admin.site.urls),
    path(settings.MEDIA_URL.strip("/") + "/", include(media_file_urls)),
    path("", include("monitoring.urls")),
]

handler400 = "etrainer.api.views.bad_request"
handler403 = "etrainer.api.views.permission_denied"
handler404 = "etrainer.api.views.page_not_found"
handler500 = "etrainer.api.views.server_error"
