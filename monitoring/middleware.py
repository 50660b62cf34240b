"""Per-request bookkeeping: Prometheus request figures, slow-request and slow-query logs.

Every request passes here, so each part is measured (CPU per request for a bare JsonResponse view,
in-process, multiprocess mode; about 170 us without any of this): django-prometheus' stock
before/after pair costs about 130 us, ``PrometheusMiddleware`` below about 20 us,
``RequestStatsMiddleware`` about 15 us.
"""

import logging
import time

from django.conf import settings
from django_prometheus.middleware import PrometheusAfterMiddleware

from etrainer import metrics

logger = logging.getLogger("etrainer.slow")


HTTP_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH")
)
UNNAMED_VIEW = "<unnamed view>"


def view_label(request) -> str:
    """The resolved view's name, as django-prometheus labels it; a response that an outer
    middleware returned before URL resolution (429, 503, redirect, 400) has none."""
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else None) or UNNAMED_VIEW


def method_label(request) -> str:
    return request.method if request.method in HTTP_METHODS else "<invalid method>"


class PrometheusMiddleware(PrometheusAfterMiddleware):
    """django-prometheus' after-middleware, recording only what our dashboards and alerts read.

    It is the outermost middleware (settings), so every response is counted with its status,
    those of the rate limiter (429, fail-closed 503), the SSL redirect and host validation
    included; its latency covers the whole middleware stack.

    Kept: requests per view (``process_view``), responses per status and per status/view/method,
    latency per view/method, exceptions per type and view. Dropped for their cost: body-size
    histograms, per-transport/charset/ajax counters and the before-middleware's duplicate latency.
    Labelled children are looked up once per (view, method, status) and reused.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._children: dict[tuple, tuple] = {}

    def process_request(self, request):
        request.prometheus_after_middleware_event = time.perf_counter()

    def process_response(self, request, response):
        key = (view_label(request), method_label(request), str(response.status_code))
        children = self._children.get(key) or self._cache_children(key)
        children[0].inc()
        children[1].inc()
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is not None:
            children[2].observe(time.perf_counter() - started)
        return response

    def _cache_children(self, key: tuple) -> tuple:
        view, method, status = key
        children = (
            self.metrics.responses_by_status.labels(status=status),
            self.metrics.responses_by_status_view_method.labels(
                status=status, view=view, method=method
            ),
            self.metrics.requests_latency_by_view_method.labels(view=view, method=method),
        )
        self._children[key] = children
        return children


class RequestStatsMiddleware:
    """Log requests slower than SLOW_REQUEST_MS; count this process's requests (cluster view)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.slow_request_seconds = settings.SLOW_REQUEST_MS / 1000

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        if self.slow_request_seconds and elapsed >= self.slow_request_seconds:
            logger.warning(
                "slow request: %s %s -> %s in %.0f ms",
                request.method,
                request.path,
                response.status_code,
                elapsed * 1000,
            )
        metrics.record_request_served()
        return response


def count_rate_limit_event(sender, *, group: str, outcome: str, **kwargs) -> None:
    """Receiver of ``etrainer.ratelimit.rate_limit_event`` (connected in MonitoringConfig.ready)."""
    metrics.record_ratelimit_event(group, outcome)


def log_slow_query(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms >= settings.SLOW_QUERY_MS:
            logger.warning("slow query: %.0f ms: %s", elapsed_ms, sql[:500])


def install_slow_query_logger(sender, connection, **kwargs):
    """connection_created handler: wrap every query of this connection once, not per request
    (an execute_wrapper context per request cost ~10 us). SQL engines only."""
    if connection.vendor == "mongodb" or settings.SLOW_QUERY_MS <= 0:
        return
    if log_slow_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(log_slow_query)
