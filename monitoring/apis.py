"""/health and /metrics (plain Django views at the site root) and the staff-only /api/system/*."""

from django.http import HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import View
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.errors import ErrorCode, error_body
from monitoring import exposition, selectors
from monitoring.health import ahealth_report


class HealthView(View):
    """Public and uncached. No DRF, no authentication: load balancers call it every few seconds."""

    async def get(self, request):
        report = await ahealth_report()
        response = JsonResponse(report.as_dict(), status=report.http_status)
        add_never_cache_headers(response)
        return response


class MetricsView(View):
    """Prometheus text format; allowed networks or the bearer token only."""

    def get(self, request):
        allowed = exposition.metrics_access_allowed(
            request.META.get("REMOTE_ADDR", ""), request.headers.get("Authorization", "")
        )
        if not allowed:
            body = error_body(ErrorCode.PERMISSION_DENIED, "Metrics are not exposed to you.")
            return JsonResponse(body, status=403)
        response = HttpResponse(exposition.exposition(), content_type=CONTENT_TYPE_LATEST)
        add_never_cache_headers(response)
        return response


@extend_schema_serializer(component_name="SystemCacheFigures")
class CacheOutputSerializer(serializers.Serializer):
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    hit_rate = serializers.FloatField(allow_null=True)
    families = serializers.DictField(child=serializers.DictField())


@extend_schema_serializer(component_name="SystemProcess")
class ProcessSerializer(serializers.Serializer):
    pid = serializers.IntegerField()
    memory_bytes = serializers.IntegerField(allow_null=True)
    requests_served = serializers.IntegerField(allow_null=True)
    current = serializers.BooleanField()


class StaffAPIView(APIView):
    permission_classes = [IsAdminUser]


class SystemMetricsApi(StaffAPIView):
    """Request rate (since the previous call), latency percentiles, errors, cache, memory."""

    @extend_schema_serializer(component_name="SystemMetrics")
    class OutputSerializer(serializers.Serializer):
        request_rate_per_s = serializers.FloatField(allow_null=True)
        requests_total = serializers.IntegerField()
        errors_total = serializers.IntegerField()
        error_rate = serializers.FloatField()
        latency_ms = serializers.DictField(child=serializers.FloatField(allow_null=True))
        cache = CacheOutputSerializer()
        memory = serializers.DictField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(selectors.metrics_summary_with_rate()).data)


class ClusterStatusApi(StaffAPIView):
    """The web server's master (granian or gunicorn) and its workers (pid, memory, requests
    served) and the Celery workers."""

    @extend_schema_serializer(component_name="ClusterStatus")
    class OutputSerializer(serializers.Serializer):
        server = serializers.ChoiceField(choices=["granian", "gunicorn"], allow_null=True)
        master = ProcessSerializer(allow_null=True)
        workers = ProcessSerializer(many=True)
        celery = serializers.DictField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(selectors.cluster_status()).data)


class CloudinaryUsageApi(StaffAPIView):
    """Storage usage as the media app reports it (Cloudinary's account figures or local disk)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(selectors.cloudinary_usage())
