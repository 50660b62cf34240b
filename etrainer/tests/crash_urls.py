"""URLs used only by the error-envelope tests: views that fail on purpose."""

from django.db import OperationalError
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class CrashingApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internals: db password is hunter2")


class DatabaseDownApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


class EchoApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"keys": sorted(request.data)})


def crashing_django_view(request):
    raise RuntimeError("secret internals: db password is hunter2")


urlpatterns = [
    path("api/test/crash", CrashingApi.as_view()),
    path("api/test/django-crash", crashing_django_view),
    path("api/test/echo", EchoApi.as_view()),
    path("api/test/database-down", DatabaseDownApi.as_view()),
    path("", include("etrainer.urls")),
]
handler404 = "etrainer.api.views.page_not_found"
handler500 = "etrainer.api.views.server_error"
