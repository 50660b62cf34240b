"""The project's URLs plus two bench-only baselines served by the same gunicorn:

- ``bench/bare``: a plain Django ``JsonResponse`` (the ratio's denominator);
- ``bench/django-cache``: the same view after one cache ``get``, the floor for any endpoint that
  reads Redis once (the access checks skip DRF's dispatch, so this is theirs);
- ``bench/drf-cache``: a DRF ``APIView`` without authentication that makes one cache ``get``,
  the floor for any endpoint that reads Redis through DRF (calibrates the machine's load).
"""

from django.core.cache import cache
from django.http import JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def bare_json(request):
    return JsonResponse({"ok": True})


def bare_json_after_cache_get(request):
    return JsonResponse({"ok": cache.get("bench:probe") is None})


class DrfCacheView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request):
        return Response({"ok": cache.get("bench:probe") is None})


urlpatterns = [
    path("bench/bare", bare_json),
    path("bench/django-cache", bare_json_after_cache_get),
    path("bench/drf-cache", DrfCacheView.as_view()),
    path("", include("etrainer.urls")),
]
