from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"

    def ready(self) -> None:
        # Django's documented place for these imports: they load models (simplejwt's too), which
        # needs the app registry, so they cannot sit at the top of apps.py. No cycle is dodged.
        from etrainer.ratelimit import register_read_along  # noqa: PLC0415 (app registry)
        from subscriptions import (  # noqa: F401, PLC0415 (connects the receivers, the checks)
            checks,
            exports,
            signals,
        )
        from subscriptions.authentication import access_read_along  # noqa: PLC0415 (app registry)

        register_read_along(access_read_along)
