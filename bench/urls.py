"""The project's URLs plus two bench-only baselines served by the same gunicorn:

- ``bench/bare``: a plain Django ``JsonResponse`` (the ratio's denominator);
- ``bench/django-cache``: the same view after one cache ``get``, the floor for any endpoint that
  reads Redis once (the access checks skip DRF's dispatch, so this is theirs);
- ``bench/drf-cache``: a DRF ``APIView`` without authentication that makes one cache ``get``,
  the floor for any endpoint that reads Redis through DRF (calibrates the machine's load).

The project's own patterns follow as they are (not under an ``include("")``, which would add a
resolver level that production does not have), with the project's error handlers.
"""

from django.core.cache import cache
from django.http import JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer import urls as project_urls


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
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
