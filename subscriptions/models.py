from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from subscriptions.money import is_chargeable_currency, normalize_currency


class Plan(models.Model):
    """What a plan gives (tier, period, AI tokens). What it costs is in ``PlanPrice``: one price
    per currency; a plan with no price above zero is free."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    duration_days = models.PositiveIntegerField(default=30)
    tier = models.PositiveSmallIntegerField(default=0)
    ai_tokens_per_period = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["tier", "code"]
        indexes = [models.Index(fields=["is_active", "tier"], name="subs_plan_active_tier_idx")]

    def __str__(self) -> str:
        return self.code

    @property
    def is_paid(self) -> bool:
        """Any price above zero (reads ``prices``: prefetched, or one query on its index)."""
        return any(price.amount > 0 for price in self.prices.all())

    def price_in(self, currency: str) -> "PlanPrice | None":
        return next((price for price in self.prices.all() if price.currency == currency), None)


class PlanPrice(models.Model):
    """A plan's price in one currency (ISO 4217, upper-case), unique per (plan, currency).

    ``amount`` is in the currency's minor unit, as Stripe charges it: cents for EUR (999 =
    €9.99), whole đồng for VND (199000 = 199.000 ₫; VND has no decimals). ``stripe_price_id`` is
    the recurring Stripe Price for it (staff set it); without one, Checkout sends the amount itself
    (``price_data``).
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR, VND.")
    amount = models.PositiveIntegerField(
        default=0,
        help_text="In the currency's minor unit: cents for EUR (999 = 9.99), đồng for VND.",
    )
    stripe_price_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "currency"], name="subs_price_plan_currency_uniq"
            )
        ]
        # The jobs' "paid plans" read (``selectors.paid_plan_ids``) filters on amount alone.
        indexes = [models.Index(fields=["amount"], name="subs_price_amount_idx")]

    def __str__(self) -> str:
        return f"{self.plan_id}:{self.amount} {self.currency}"

    def clean(self) -> None:
        self.currency = normalize_currency(self.currency or "")
        if not is_chargeable_currency(self.currency):
            raise ValidationError(
                {"currency": f"{self.currency!r} is not an ISO 4217 currency Stripe can charge."}
            )


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    # Stripe could not collect a renewal: no paid tier until an invoice is paid (or it ends).
    PAST_DUE = "past_due", "Past due"


# A cancelled subscription keeps its access until ends_at: both statuses are "live".
LIVE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLED)
# Statuses that hold the user's one live slot (``live_key``) until ends_at: the live ones, and a
# past-due one, which gives no access but may still be paid and so blocks a second subscription.
HELD_STATUSES = (*LIVE_STATUSES, SubscriptionStatus.PAST_DUE)


class Subscription(models.Model):
    """A user's subscription to a plan.

    ``live_key`` holds the user's id while the subscription is live (active, or cancelled but not
    yet past ``ends_at``) and NULL otherwise. It is unique, so the database itself refuses a second
    live subscription for the same user, also when concurrent requests race: the losing INSERT gets
    an IntegrityError. NULLs never collide (SQL; on MongoDB the backend builds the unique index
    with a ``$type`` partial filter), so expired rows are unconstrained. This needs neither row
    locks nor transactions, which MongoDB would not give us.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True)
    live_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Stripe billing (paid plans): the Checkout Session that starts it, the Stripe Subscription
    # that bills it, and the ``created`` time of the last Stripe event applied to it (events may
    # arrive out of order: an older one never overrides a newer one).
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=2048, blank=True, default="")
    stripe_subscription_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    billing_event_at = models.DateTimeField(null=True, blank=True)
    # The currency the learner chose at checkout (ISO 4217); a switch keeps it. Empty: free.
    currency = models.CharField(max_length=3, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["user", "status", "ends_at"], name="subs_sub_user_status_ends_idx"
            ),
            models.Index(fields=["status", "ends_at"], name="subs_sub_status_ends_idx"),
            models.Index(fields=["user", "started_at"], name="subs_sub_user_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user.email} — {self.plan.name} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES and self.ends_at > timezone.now()


class Course(models.Model):
    code = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    min_tier = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["min_tier", "code"]
        indexes = [
            models.Index(fields=["is_published", "min_tier"], name="subs_course_pub_tier_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class GrantSource(models.TextChoices):
    ADMIN = "admin", "Admin"
    PROMOTION = "promotion", "Promotion"
    PURCHASE = "purchase", "Purchase"


class CourseGrant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_grants"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grants")
    expires_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=GrantSource.choices, default=GrantSource.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="subs_grant_user_course_uniq")
        ]
        indexes = [models.Index(fields=["expires_at"], name="subs_grant_expires_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.course_id}"

    @property
    def is_live(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


class AiTokenAccount(models.Model):
    """A user's monthly AI-token allowance; ``used`` only ever changes by conditional update()."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_token_account"
    )
    period_start = models.DateField()
    quota = models.PositiveIntegerField(default=0)
    used = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["period_start"], name="subs_ai_period_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.used}/{self.quota}"


class PendingInvalidation(models.Model):
    """A cache invalidation Redis did not receive (down, hung, breaker open), kept in the database
    until a reader replays it (``subscriptions.cache.replay_pending``).

    ``ident`` is the user's (or course's) id whose ``family`` entry must go, or empty for a
    family-wide version bump (a Plan edit). Ids are stored as strings: opaque on every engine.
    """

    family = models.CharField(max_length=16)
    ident = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.family}:{self.ident or '*'}"
