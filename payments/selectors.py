"""Reads of the payments app."""

from django.db.models import QuerySet

from payments.models import Payment


def payment_list(*, user) -> QuerySet[Payment]:
    """The learner's payments (receipts), newest first: on the (user, created_at) index."""
    return Payment.objects.filter(user=user).order_by("-created_at", "-pk")
