from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_patterns = [
    # the access checks first: every request walks these includes in order
    path("", include("subscriptions.urls")),
    path("", include("accounts.urls")),
    path("", include("learning.urls")),
    path("", include("notifications.urls")),
    path("", include("media.urls")),
    path("", include("jobs.urls")),
    path("", include("monitoring.api_urls")),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("", include("monitoring.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "etrainer.api.views.bad_request"
handler403 = "etrainer.api.views.permission_denied"
handler404 = "etrainer.api.views.page_not_found"
handler500 = "etrainer.api.views.server_error"
