from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Registers the system checks, which read the models: importable once the registry is up.
        from accounts import checks  # noqa: F401, PLC0415
