import datetime as dt

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from subscriptions.models import (
    AiTokenAccount,
    Course,
    CourseGrant,
    GrantSource,
    Plan,
    PlanPrice,
    Subscription,
    SubscriptionStatus,
)
from subscriptions.selectors import current_period_start


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"plan{n}")
    name = factory.LazyAttribute(lambda plan: plan.code.title())
    duration_days = 30
    tier = 1
    ai_tokens_per_period = 100
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Prices as keywords: ``price_cents`` (+ ``currency``, ``stripe_price_id``) for one
        price, the way plans were priced before (free without), or ``prices={"VND": 199000}``
        (or ``{"VND": (199000, "price_…")}``) for several."""
        currency = kwargs.pop("currency", "EUR")
        single = (kwargs.pop("price_cents", 0), kwargs.pop("stripe_price_id", ""))
        prices = kwargs.pop("prices", {})
        plan = super()._create(model_class, *args, **kwargs)
        if single[0] or single[1]:
            prices = {currency: single, **prices}
        for code, value in prices.items():
            amount, price_id = value if isinstance(value, tuple) else (value, "")
            PlanPrice.objects.update_or_create(
                plan=plan, currency=code, defaults={"amount": amount, "stripe_price_id": price_id}
            )
        return plan


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    min_tier = 1
    is_published = True


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A live subscription by default (``live_key`` filled as the services do)."""

    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    status = SubscriptionStatus.ACTIVE
    started_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda sub: sub.started_at + dt.timedelta(days=30))
    live_key = factory.LazyAttribute(
        lambda sub: str(sub.user.pk) if sub.status in ("active", "cancelled") else None
    )


class CourseGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseGrant

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    expires_at = None
    source = GrantSource.ADMIN


class AiTokenAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AiTokenAccount

    user = factory.SubFactory(UserFactory)
    period_start = factory.LazyFunction(current_period_start)
    quota = 100
    used = 0
