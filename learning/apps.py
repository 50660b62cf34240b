from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "learning"

    def ready(self) -> None:
        from learning import exports  # noqa: F401, PLC0415 (a receiver; loads models)
