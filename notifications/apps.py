from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from notifications import account_emails  # noqa: F401, PLC0415 (receivers; load models)
