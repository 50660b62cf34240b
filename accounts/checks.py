"""System checks of the accounts settings: a bad value stops start-up, not every sign-up."""

from django.conf import settings
from django.core.checks import Error, register

from accounts.models import UserLanguage


@register()
def default_user_language_is_known(app_configs, **kwargs) -> list[Error]:
    if settings.DEFAULT_USER_LANGUAGE in UserLanguage.values:
        return []
    return [
        Error(
            f"DEFAULT_USER_LANGUAGE={settings.DEFAULT_USER_LANGUAGE!r} is not a language of the "
            "platform.",
            hint=f"Choose one of {', '.join(UserLanguage.values)}.",
            id="accounts.E001",
        )
    ]
