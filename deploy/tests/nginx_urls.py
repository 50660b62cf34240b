"""The project's URLs plus /api/_probe: a JSON answer big enough to be gzipped, with no DB."""

from django.http import JsonResponse
from django.urls import path

from etrainer.urls import handler400, handler403, handler404, handler500, urlpatterns

PROBE_ITEMS = [{"id": str(i), "title": f"Course {i}", "min_tier": i % 3} for i in range(60)]


def probe(request):
    return JsonResponse({"items": PROBE_ITEMS})


urlpatterns = [path("api/_probe", probe), *urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
