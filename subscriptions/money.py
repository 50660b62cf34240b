"""Currencies and amounts: ISO 4217 codes, minor units, and display in the learner's language.

Amounts are integers in the currency's minor unit, as ISO 4217 (CLDR, through Babel) and Stripe
count them: cents for EUR (999 is €9.99), whole đồng for VND, a zero-decimal currency (199000 is
199.000 ₫). Nothing is ever divided by 100 blindly: ``currency_decimals`` says how many decimals a
currency has. Stripe counts a few currencies differently from ISO (ISK, HUF, TWD, UGX: two decimals
at Stripe though zero in ISO); those are refused for plan prices (``STRIPE_SPECIAL_CURRENCIES``).
"""

from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.conf import settings
from django.utils import translation

# Stripe does not count these in ISO minor units: https://docs.stripe.com/currencies#special-cases
STRIPE_SPECIAL_CURRENCIES = frozenset({"ISK", "HUF", "TWD", "UGX"})
FALLBACK_LOCALE = "en"


def normalize_currency(code: str) -> str:
    return code.strip().upper()


def is_known_currency(code: str) -> bool:
    """An ISO 4217 code that CLDR knows (``EUR``, ``VND``), upper-case."""
    return code in known_currencies()


@lru_cache(maxsize=1)
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_chargeable_currency(code: str) -> bool:
    """Known, and counted by Stripe in the same minor unit as by ISO 4217."""
    return is_known_currency(code) and code not in STRIPE_SPECIAL_CURRENCIES


def currency_decimals(code: str) -> int:
    """Digits after the decimal point of the currency's major unit: 2 for EUR, 0 for VND."""
    return get_currency_precision(code)


def currency_for_language(language: str | None) -> str:
    """The currency a learner of this language pays in by default (``CURRENCY_BY_LANGUAGE``)."""
    mapping = settings.CURRENCY_BY_LANGUAGE
    code = (language or "").split("-")[0].lower()
    return mapping.get(code) or mapping.get(settings.DEFAULT_USER_LANGUAGE) or "EUR"


@lru_cache(maxsize=32)
def babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


def format_amount(amount: int, currency: str, *, language: str | None = None) -> str:
    """``amount`` (minor units) formatted for ``language`` (default: the active language):
    vi "199.000 ₫", en "₫199,000" and "€9.99". Zero-decimal currencies never show decimals."""
    value = Decimal(amount).scaleb(-currency_decimals(currency))
    locale = babel_locale(language or translation.get_language() or FALLBACK_LOCALE)
    return format_currency(value, currency, locale=locale)


def amount_view(amount: int, currency: str, *, language: str | None = None) -> dict:
    """What the API shows of an amount: minor units, currency, its decimals and the display."""
    return {
        "amount": amount,
        "currency": currency,
        "decimals": currency_decimals(currency),
        "display": format_amount(amount, currency, language=language),
    }
