import logging

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created

from etrainer.metrics import declare_ratelimit_groups


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self):
        """Slow-query logging on every new SQL connection; django-health-check's per-probe
        tracebacks silenced (a failed probe is reported by /health, and Redis outages are
        already logged once by the breaker), its unexpected errors still logged. A Celery
        worker serves its figures when METRICS_WORKER_BIND is set (worker_metrics' signals); the
        rate limiter's event counters exist at 0 from the start and follow its signal. pymongo's
        pool and command events feed /metrics: listeners registered with pymongo before the
        MongoDB backend opens its client (on the SQL engines no client is opened)."""
        # These read models (JobRun, through the exposition) or load simplejwt's: importable once
        # the registry is ready.
        from etrainer.mongo_metrics import register_mongo_listeners  # noqa: PLC0415
        from etrainer.ratelimit import rate_limit_event  # noqa: PLC0415
        from monitoring import worker_metrics  # noqa: F401, PLC0415 (connects the worker signals)
        from monitoring.middleware import (  # noqa: PLC0415
            count_rate_limit_event,
            install_slow_query_logger,
        )

        declare_ratelimit_groups(settings.RATELIMIT_RATES)
        rate_limit_event.connect(count_rate_limit_event, dispatch_uid="rate-limit-metrics")
        register_mongo_listeners()

        connection_created.connect(install_slow_query_logger, dispatch_uid="slow-query-logger")
        logging.getLogger("health_check").setLevel(logging.ERROR)
