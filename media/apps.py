from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"

    def ready(self) -> None:
        # Registers the system checks and the signal receivers, which need the models loaded.
        from media import checks, exports, signals  # noqa: F401, PLC0415
