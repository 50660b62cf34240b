"""Plans priced per currency: the amounts a learner sees in their language, the default currency
by language (and its system check), and which plans the jobs count as paid."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone, translation

from subscriptions.checks import currency_by_language_is_complete
from subscriptions.models import Plan, PlanPrice, SubscriptionStatus
from subscriptions.money import amount_view, currency_for_language, format_amount
from subscriptions.selectors import paid_plan_ids
from subscriptions.services import subscriptions_expire_due
from subscriptions.tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
NBSP = "\xa0"  # CLDR puts a no-break space between the number and the symbol in Vietnamese


def plans_in(client, language: str) -> dict:
    """GET /api/plans in ``language`` (Accept-Language, and active in this thread for branches
    without LocaleMiddleware)."""
    with translation.override(language):
        response = client.get("/api/plans", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return {plan["code"]: plan for plan in response.json()["results"]}


def test_vnd_has_no_decimals_and_is_formatted_for_each_language():
    assert format_amount(199_000, "VND", language="vi") == f"199.000{NBSP}₫"
    assert format_amount(199_000, "VND", language="en") == "₫199,000"
    assert format_amount(999, "EUR", language="en") == "€9.99"
    assert format_amount(999, "EUR", language="vi") == f"9,99{NBSP}€"
    assert amount_view(199_000, "VND", language="vi")["decimals"] == 0
    assert amount_view(999, "EUR", language="vi")["decimals"] == 2


def test_the_plan_list_shows_every_price_formatted_for_the_language(api_client):
    PlanFactory(code="pro", tier=2, prices={"EUR": 999, "VND": 199_000})
    PlanFactory(code="free", tier=0)

    vi = plans_in(api_client, "vi")
    en = plans_in(api_client, "en")

    assert vi["pro"]["prices"] == [
        {"amount": 999, "currency": "EUR", "decimals": 2, "display": f"9,99{NBSP}€"},
        {"amount": 199_000, "currency": "VND", "decimals": 0, "display": f"199.000{NBSP}₫"},
    ]
    assert [p["display"] for p in en["pro"]["prices"]] == ["€9.99", "₫199,000"]
    assert (vi["pro"]["is_paid"], vi["free"]["is_paid"]) == (True, False)
    assert vi["free"]["prices"] == []
    # older clients: price_cents/currency are the price in the language's currency
    assert (vi["pro"]["price_cents"], vi["pro"]["currency"]) == (199_000, "VND")
    assert (en["pro"]["price_cents"], en["pro"]["currency"]) == (999, "EUR")
    assert (vi["free"]["price_cents"], vi["free"]["currency"]) == (0, "VND")


def test_the_default_currency_follows_the_language_and_the_environment(settings):
    assert (currency_for_language("vi"), currency_for_language("en")) == ("VND", "EUR")
    assert currency_for_language("en-us") == "EUR"
    settings.CURRENCY_BY_LANGUAGE = {"vi": "VND", "en": "USD"}
    assert currency_for_language("en") == "USD"


def test_an_incomplete_or_unknown_currency_mapping_stops_start_up(settings):
    assert currency_by_language_is_complete(None) == []

    settings.CURRENCY_BY_LANGUAGE = {"vi": "VND"}
    assert [e.id for e in currency_by_language_is_complete(None)] == ["subscriptions.E001"]

    settings.CURRENCY_BY_LANGUAGE = {"vi": "DONG", "en": "EUR"}
    assert [e.id for e in currency_by_language_is_complete(None)] == ["subscriptions.E002"]


def test_a_plan_is_paid_when_any_of_its_prices_is_above_zero(django_assert_num_queries):
    vnd_only = PlanFactory(code="vnd-only", prices={"VND": 199_000})
    zero = PlanFactory(code="zero", prices={"EUR": 0})
    PlanFactory(code="free")

    with django_assert_num_queries(1):
        paid = paid_plan_ids()

    assert paid == {vnd_only.pk}
    assert (vnd_only.is_paid, zero.is_paid) == (True, False)


def test_the_expiry_job_emails_the_end_of_a_plan_paid_in_vnd_only(
    django_capture_on_commit_callbacks,
):
    # given: a due subscription of a plan priced in VND only, and one of a free plan
    paid = PlanFactory(code="vnd-only", tier=2, prices={"VND": 199_000})
    free = PlanFactory(code="free", tier=0)
    past = timezone.now() - dt.timedelta(minutes=1)
    for plan in (paid, free):
        SubscriptionFactory(plan=plan, status=SubscriptionStatus.ACTIVE, ends_at=past)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        expired = subscriptions_expire_due()

    # then: both end; only the paid one is emailed
    assert expired == 2
    assert len(mail.outbox) == 1


def test_the_demo_catalog_prices_its_paid_plans_in_euro_and_dong():
    call_command("seed_demo_catalog", verbosity=0)

    codes = dict(Plan.objects.values_list("pk", "code"))
    prices = {
        (codes[plan_id], currency, amount)
        for plan_id, currency, amount in PlanPrice.objects.values_list(
            "plan_id", "currency", "amount"
        )
    }
    assert prices == {
        ("basic", "EUR", 900), ("basic", "VND", 99_000),
        ("pro", "EUR", 1900), ("pro", "VND", 199_000),
    }  # fmt: skip
