"""Move each plan's single price (price_cents, currency, stripe_price_id) into a PlanPrice row.

Data only, between the schema step that adds PlanPrice (0004) and the one that drops the old plan
fields (0006), so that schema migrations can be regenerated around it. A free plan (price 0, no
Stripe price) gets no row: no price above zero is what "free" means now. A Stripe-billed
subscription gets its plan's currency. Reversible: the plan takes back its EUR price (else its
first). Idempotent: an existing (plan, currency) row is left as it is.
"""

from django.db import migrations


def prices_from_plans(apps, schema_editor):
    plan_model = apps.get_model("subscriptions", "Plan")
    price_model = apps.get_model("subscriptions", "PlanPrice")
    subscription_model = apps.get_model("subscriptions", "Subscription")
    for plan in plan_model.objects.all():
        currency = (plan.currency or "EUR").strip().upper()
        if plan.price_cents or plan.stripe_price_id:
            price_model.objects.get_or_create(
                plan_id=plan.pk,
                currency=currency,
                defaults={"amount": plan.price_cents, "stripe_price_id": plan.stripe_price_id},
            )
        subscription_model.objects.filter(
            plan_id=plan.pk, stripe_subscription_id__isnull=False, currency=""
        ).update(currency=currency)


def plans_from_prices(apps, schema_editor):
    plan_model = apps.get_model("subscriptions", "Plan")
    price_model = apps.get_model("subscriptions", "PlanPrice")
    for plan in plan_model.objects.all():
        prices = list(price_model.objects.filter(plan_id=plan.pk).order_by("currency"))
        price = next((p for p in prices if p.currency == "EUR"), prices[0] if prices else None)
        if price is not None:
            plan.price_cents, plan.currency = price.amount, price.currency
            plan.stripe_price_id = price.stripe_price_id
            plan.save(update_fields=["price_cents", "currency", "stripe_price_id"])


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0004_plan_prices")]

    operations = [migrations.RunPython(prices_from_plans, plans_from_prices)]
