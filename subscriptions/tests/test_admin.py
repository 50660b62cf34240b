"""The subscription admin, through its pages: it keeps the API's rules (live rule, AI quota)."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from subscriptions.models import AiTokenAccount, Subscription, SubscriptionStatus
from subscriptions.tests.factories import AiTokenAccountFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser() -> Client:
    StaffFactory(email="ops@example.com", is_superuser=True)
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops@example.com", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302, "the staff login failed"
    return client


def form_data(subscription: Subscription, **changes) -> dict:
    data = {
        "user": subscription.user_id,
        "plan": subscription.plan_id,
        "status": subscription.status,
        "started_at_0": subscription.started_at.strftime("%Y-%m-%d"),
        "started_at_1": subscription.started_at.strftime("%H:%M:%S"),
        "ends_at_0": subscription.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": subscription.ends_at.strftime("%H:%M:%S"),
        "cancelled_at_0": "",
        "cancelled_at_1": "",
        "auto_renew": "on",
    }
    data.update(changes)
    return data


def change_url(subscription: Subscription) -> str:
    return f"/admin/subscriptions/subscription/{subscription.pk}/change/"


def test_a_plan_change_in_the_admin_gives_the_new_plans_ai_quota(
    staff_browser, learner, basic_plan, pro_plan
):
    # given a pro learner with pro's quota, 30 tokens used
    subscription = SubscriptionFactory(user=learner, plan=pro_plan)
    AiTokenAccountFactory(user=learner, quota=500, used=30)

    # when staff move the subscription to basic
    response = staff_browser.post(
        change_url(subscription), form_data(subscription, plan=basic_plan.pk)
    )

    # then the tier and the quota are basic's, and the used tokens stay used
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription.refresh_from_db()
    assert subscription.plan == basic_plan
    account = AiTokenAccount.objects.get(user=learner)
    assert (account.quota, account.used) == (100, 30)


def test_ending_a_subscription_in_the_admin_leaves_no_ai_quota(staff_browser, learner, pro_plan):
    subscription = SubscriptionFactory(user=learner, plan=pro_plan)
    AiTokenAccountFactory(user=learner, quota=500, used=30)

    response = staff_browser.post(
        change_url(subscription), form_data(subscription, status=SubscriptionStatus.EXPIRED)
    )

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.status, subscription.live_key) == (SubscriptionStatus.EXPIRED, None)
    assert AiTokenAccount.objects.get(user=learner).quota == 0


def test_a_subscription_added_in_the_admin_gets_its_plans_quota(staff_browser, learner, pro_plan):
    now = timezone.now()
    draft = Subscription(
        user=learner, plan=pro_plan, status=SubscriptionStatus.ACTIVE,
        started_at=now, ends_at=now + dt.timedelta(days=30),
    )  # fmt: skip

    response = staff_browser.post("/admin/subscriptions/subscription/add/", form_data(draft))

    assert response.status_code == 302
    assert Subscription.objects.get(user=learner).live_key == str(learner.pk)
    assert AiTokenAccount.objects.get(user=learner).quota == 500


def test_a_second_live_subscription_is_refused_with_a_form_error(
    staff_browser, learner, basic_plan, pro_plan
):
    SubscriptionFactory(user=learner, plan=basic_plan)
    now = timezone.now()
    draft = Subscription(
        user=learner, plan=pro_plan, status=SubscriptionStatus.ACTIVE,
        started_at=now, ends_at=now + dt.timedelta(days=30),
    )  # fmt: skip

    response = staff_browser.post("/admin/subscriptions/subscription/add/", form_data(draft))

    assert response.status_code == 200
    assert "This user already has a live subscription." in response.content.decode()
    assert Subscription.objects.filter(user=learner).count() == 1


def test_a_subscription_reads_as_its_user_plan_and_status_and_hides_its_live_key(
    staff_browser, pro_plan
):
    learner = UserFactory(email="learner@x.example")
    subscription = SubscriptionFactory(user=learner, plan=pro_plan)

    change = staff_browser.get(change_url(subscription)).content.decode()
    listing = staff_browser.get("/admin/subscriptions/subscription/").content.decode()

    assert "learner@x.example — Pro (Active)" in change
    assert "live_key" not in change
    assert "Live key" not in change
    assert "learner@x.example" in listing


def plan_form(plan, *prices: tuple[str, str]) -> dict:
    data = {
        "code": plan.code, "name": plan.name, "duration_days": plan.duration_days,
        "tier": plan.tier, "ai_tokens_per_period": plan.ai_tokens_per_period, "is_active": "on",
        "prices-TOTAL_FORMS": len(prices), "prices-INITIAL_FORMS": 0,
    }  # fmt: skip
    for n, (currency, amount) in enumerate(prices):
        data |= {f"prices-{n}-currency": currency, f"prices-{n}-amount": amount}
    return data


def test_staff_price_a_plan_per_currency_inline(staff_browser):
    plan = PlanFactory(code="pro", tier=2)
    url = f"/admin/subscriptions/plan/{plan.pk}/change/"

    response = staff_browser.post(url, plan_form(plan, ("eur", "1900"), ("VND", "199000")))

    assert response.status_code == 302
    assert set(plan.prices.values_list("currency", "amount")) == {("EUR", 1900), ("VND", 199_000)}
    listing = staff_browser.get("/admin/subscriptions/plan/").content.decode()
    assert "€19.00" in listing
    assert "₫199,000" in listing


def test_an_unknown_currency_is_a_form_error_and_saves_nothing(staff_browser):
    plan = PlanFactory(code="pro", tier=2)

    response = staff_browser.post(
        f"/admin/subscriptions/plan/{plan.pk}/change/", plan_form(plan, ("XYZ", "100"))
    )

    assert response.status_code == 200
    assert "not an ISO 4217 currency" in response.content.decode()
    assert not plan.prices.exists()
