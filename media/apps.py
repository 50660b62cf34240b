from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"

    def ready(self) -> None:
        from media import checks, exports, signals  # noqa: F401  (registers checks, receivers)
