"""Stripe records: customers, payments (invoices) and every webhook event received.

Payment records outlive their user: deleting an account nulls ``user`` (``SET_NULL``) and keeps
the amounts, anonymised, for the books.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StripeCustomer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stripe_customer",
        verbose_name=_("user"),
    )
    stripe_customer_id = models.CharField(
        max_length=255, unique=True, verbose_name=_("Stripe customer ID")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("Stripe customer")
        verbose_name_plural = _("Stripe customers")

    def __str__(self) -> str:
        return self.stripe_customer_id


class PaymentStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class Payment(models.Model):
    """One Stripe invoice, paid or failed; stored once per invoice and outcome."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("user"),
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("subscription"),
    )
    plan_code = models.CharField(max_length=32, blank=True, default="", verbose_name=_("plan code"))
    stripe_invoice_id = models.CharField(max_length=255, verbose_name=_("Stripe invoice ID"))
    stripe_customer_id = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("Stripe customer ID")
    )
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, verbose_name=_("status")
    )
    # In the currency's minor unit, as Stripe reports it: cents for EUR, whole đồng for VND.
    amount = models.PositiveIntegerField(default=0, verbose_name=_("amount"))
    currency = models.CharField(max_length=3, blank=True, default="", verbose_name=_("currency"))
    period_end = models.DateTimeField(null=True, blank=True, verbose_name=_("period end"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_invoice_id", "status"], name="pay_payment_invoice_status_uniq"
            )
        ]
        # GET /api/payments: a learner's receipts, newest first.
        indexes = [models.Index(fields=["user", "created_at"], name="pay_payment_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.stripe_invoice_id} ({self.status})"


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (type not handled)")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """A verified Stripe event, stored once by its id (unique): a replay changes nothing."""

    event_id = models.CharField(max_length=255, unique=True, verbose_name=_("event ID"))
    type = models.CharField(max_length=100, verbose_name=_("type"))
    created = models.DateTimeField(
        help_text="When Stripe created the event.", verbose_name=_("created")
    )
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(
        max_length=16,
        choices=WebhookEventStatus.choices,
        default=WebhookEventStatus.RECEIVED,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="pay_event_status_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
