"""Plans free/basic/pro (priced in EUR and VND), courses at each tier, and a subscription for the
demo learner.

Idempotent: rows are matched by code (prices by plan and currency; an existing one is left as
staff set it), and the learner is only subscribed when they have no live subscription, so
`make run` can call it on every start.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from subscriptions.models import Course, Plan, PlanPrice
from subscriptions.selectors import live_subscription
from subscriptions.services import subscription_create

# Prices in each currency's minor unit: cents for EUR (900 = €9.00), whole đồng for VND.
PLANS = [
    {"code": code, "name": name, "tier": tier, "ai_tokens_per_period": tokens, "prices": prices}
    for code, name, tier, tokens, prices in [
        ("free", "Free", 0, 1_000, {}),
        ("basic", "Basic", 1, 20_000, {"EUR": 900, "VND": 99_000}),
        ("pro", "Pro", 2, 100_000, {"EUR": 1900, "VND": 199_000}),
    ]
]
COURSES = [
    ("english-a1", "English A1: first steps", 0),
    ("english-a2", "English A2: everyday English", 0),
    ("english-b1", "English B1: conversations", 1),
    ("business-english", "Business English", 1),
    ("ielts-prep", "IELTS preparation", 2),
    ("english-c1", "English C1: advanced writing", 2),
]
DEMO_PLAN = "basic"


class Command(BaseCommand):
    help = "Create the demo plans and courses and subscribe the demo learner (idempotent)."

    def handle(self, *args, **options):
        plans = sum(self._plan(spec) for spec in PLANS)
        courses = sum(self._course(*spec) for spec in COURSES)
        self.stdout.write(f"Demo catalog: {plans} plan(s) and {courses} course(s) created.")
        learner = User.objects.filter(email=settings.DEMO_LEARNER_EMAIL).first()
        if learner is None:
            self.stdout.write("No demo learner; no subscription created.")
        elif live_subscription(user_id=learner.pk) is None:
            subscription_create(user=learner, plan_code=DEMO_PLAN, complimentary=True)
            self.stdout.write(f"Subscribed {learner.email} to the {DEMO_PLAN} plan.")

    @staticmethod
    def _plan(spec: dict) -> bool:
        defaults = {key: value for key, value in spec.items() if key not in ("code", "prices")}
        plan, created = Plan.objects.get_or_create(code=spec["code"], defaults=defaults)
        for currency, amount in spec["prices"].items():
            PlanPrice.objects.get_or_create(
                plan=plan, currency=currency, defaults={"amount": amount}
            )
        return created

    @staticmethod
    def _course(code: str, title: str, min_tier: int) -> bool:
        defaults = {"title": title, "min_tier": min_tier}
        return Course.objects.get_or_create(code=code, defaults=defaults)[1]
