import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from subscriptions.models import Course, Plan, Subscription

pytestmark = pytest.mark.django_db


def test_seed_demo_catalog_is_idempotent(settings):
    learner = UserFactory(email=settings.DEMO_LEARNER_EMAIL)

    call_command("seed_demo_catalog", verbosity=0)
    call_command("seed_demo_catalog", verbosity=0)

    assert set(Plan.objects.values_list("code", flat=True)) == {"free", "basic", "pro"}
    assert set(Course.objects.values_list("min_tier", flat=True)) == {0, 1, 2}
    assert Course.objects.count() == 6
    assert Subscription.objects.filter(user=learner).count() == 1


def test_seed_demo_catalog_without_a_learner_creates_the_catalog_only():
    call_command("seed_demo_catalog", verbosity=0)

    assert Plan.objects.count() == 3
    assert not Subscription.objects.exists()
