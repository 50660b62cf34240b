from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"

    def ready(self) -> None:
        from etrainer.ratelimit import register_read_along
        from subscriptions import exports, signals  # noqa: F401
        from subscriptions.selectors import access_read_along

        register_read_along(access_read_along)
