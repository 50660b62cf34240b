"""System checks of the pricing settings: a bad value stops start-up, not every checkout."""

from django.conf import settings
from django.core.checks import Error, register

from accounts.models import UserLanguage
from subscriptions.money import is_chargeable_currency


@register()
def currency_by_language_is_complete(app_configs, **kwargs) -> list[Error]:
    """Every language of the platform has a default currency, and each is one Stripe charges."""
    mapping = settings.CURRENCY_BY_LANGUAGE
    errors = [
        Error(
            f"CURRENCY_BY_LANGUAGE has no currency for the language {language!r}.",
            hint="Add it, e.g. CURRENCY_BY_LANGUAGE=vi=VND,en=EUR.",
            id="subscriptions.E001",
        )
        for language in UserLanguage.values
        if language not in mapping
    ]
    errors += [
        Error(
            f"CURRENCY_BY_LANGUAGE maps {language!r} to {currency!r}, not an ISO 4217 currency "
            "Stripe charges in its minor unit.",
            hint="Use an ISO 4217 code such as EUR or VND (not ISK, HUF, TWD, UGX).",
            id="subscriptions.E002",
        )
        for language, currency in mapping.items()
        if not is_chargeable_currency(currency)
    ]
    return errors
