from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subscriptions.money import is_chargeable_currency, normalize_currency


class Plan(models.Model):
    """What a plan gives (tier, period, AI tokens). What it costs is in ``PlanPrice``: one price
    per currency; a plan with no price above zero is free."""

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    duration_days = models.PositiveIntegerField(default=30, verbose_name=_("duration days"))
    tier = models.PositiveSmallIntegerField(default=0, verbose_name=_("tier"))
    ai_tokens_per_period = models.PositiveIntegerField(
        default=0, verbose_name=_("AI tokens per period")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
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

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="prices", verbose_name=_("plan")
    )
    currency = models.CharField(
        max_length=3, help_text=_("ISO 4217 code, e.g. EUR, VND."), verbose_name=_("currency")
    )
    amount = models.PositiveIntegerField(
        default=0,
        help_text=_("In the currency's minor unit: cents for EUR (999 = 9.99), đồng for VND."),
        verbose_name=_("amount"),
    )
    stripe_price_id = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("Stripe price ID")
    )

    class Meta:
        verbose_name = _("plan price")
        verbose_name_plural = _("plan prices")
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
                {
                    "currency": _("%(code)r is not an ISO 4217 currency Stripe can charge.")
                    % {"code": self.currency}
                }
            )


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    # Stripe could not collect a renewal: no paid tier until an invoice is paid (or it ends).
    PAST_DUE = "past_due", _("Past due")


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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("user"),
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="subscriptions", verbose_name=_("plan")
    )
    status = models.CharField(
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
        verbose_name=_("status"),
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    auto_renew = models.BooleanField(default=True, verbose_name=_("auto renew"))
    live_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        verbose_name=_("live key"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Stripe billing (paid plans): the Checkout Session that starts it, the Stripe Subscription
    # that bills it, and the ``created`` time of the last Stripe event applied to it (events may
    # arrive out of order: an older one never overrides a newer one).
    checkout_session_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("checkout session ID")
    )
    checkout_url = models.URLField(
        max_length=2048, blank=True, default="", verbose_name=_("checkout URL")
    )
    stripe_subscription_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, verbose_name=_("Stripe subscription ID")
    )
    billing_event_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("billing event at")
    )
    # The currency the learner chose at checkout (ISO 4217); a switch keeps it. Empty: free.
    currency = models.CharField(max_length=3, blank=True, default="", verbose_name=_("currency"))

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
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
    code = models.CharField(max_length=64, unique=True, verbose_name=_("code"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    min_tier = models.PositiveSmallIntegerField(default=0, verbose_name=_("min tier"))
    is_published = models.BooleanField(default=True, verbose_name=_("is published"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["min_tier", "code"]
        indexes = [
            models.Index(fields=["is_published", "min_tier"], name="subs_course_pub_tier_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class GrantSource(models.TextChoices):
    ADMIN = "admin", _("Admin")
    PROMOTION = "promotion", _("Promotion")
    PURCHASE = "purchase", _("Purchase")


class CourseGrant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="course_grants",
        verbose_name=_("user"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="grants", verbose_name=_("course")
    )
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    source = models.CharField(
        max_length=16,
        choices=GrantSource.choices,
        default=GrantSource.ADMIN,
        verbose_name=_("source"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("course grant")
        verbose_name_plural = _("course grants")
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="ai_token_account",
        verbose_name=_("user"),
    )
    period_start = models.DateField(verbose_name=_("period start"))
    quota = models.PositiveIntegerField(default=0, verbose_name=_("quota"))
    used = models.PositiveIntegerField(default=0, verbose_name=_("used"))

    class Meta:
        verbose_name = _("AI token account")
        verbose_name_plural = _("AI token accounts")
        indexes = [models.Index(fields=["period_start"], name="subs_ai_period_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.used}/{self.quota}"


class PendingInvalidation(models.Model):
    """A cache invalidation Redis did not receive (down, hung, breaker open), kept in the database
    until a reader replays it (``subscriptions.cache.replay_pending``).

    ``ident`` is the user's (or course's) id whose ``family`` entry must go, or empty for a
    family-wide version bump (a Plan edit). Ids are stored as strings: opaque on every engine.
    """

    family = models.CharField(max_length=16, verbose_name=_("family"))
    ident = models.CharField(max_length=64, blank=True, default="", verbose_name=_("ident"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("pending invalidation")
        verbose_name_plural = _("pending invalidations")

    def __str__(self) -> str:
        return f"{self.family}:{self.ident or '*'}"
