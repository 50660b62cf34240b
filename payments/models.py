"""Stripe records: customers, payments (invoices) and every webhook event received.

Payment records outlive their user: deleting an account nulls ``user`` (``SET_NULL``) and keeps
the amounts, anonymised, for the books.
"""

from django.conf import settings
from django.db import models


class StripeCustomer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stripe_customer",
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.stripe_customer_id


class PaymentStatus(models.TextChoices):
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"


class Payment(models.Model):
    """One Stripe invoice, paid or failed; stored once per invoice and outcome."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
    )
    subscription = models.ForeignKey(
        "subscriptions.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
    )
    plan_code = models.CharField(max_length=32, blank=True, default="")
    stripe_invoice_id = models.CharField(max_length=255)
    stripe_customer_id = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=PaymentStatus.choices)
    # In the currency's minor unit, as Stripe reports it: cents for EUR, whole đồng for VND.
    amount = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True, default="")
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored (type not handled)"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """A verified Stripe event, stored once by its id (unique): a replay changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=WebhookEventStatus.choices, default=WebhookEventStatus.RECEIVED
    )
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="pay_event_status_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
