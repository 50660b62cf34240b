"""The subscriptions section of a person's data export (``accounts.signals.user_data_export``)."""

from django.dispatch import receiver

from accounts.signals import user_data_export
from subscriptions.models import AiTokenAccount, CourseGrant, Subscription


@receiver(user_data_export, dispatch_uid="subscriptions-export")
def export_subscriptions(sender, user, **kwargs) -> dict:
    subscriptions = Subscription.objects.filter(user=user).order_by("created_at", "pk")
    grants = CourseGrant.objects.filter(user=user).order_by("created_at", "pk")
    account = AiTokenAccount.objects.filter(user=user)
    return {
        "subscriptions": list(
            subscriptions.values(
                "id",
                "plan__code",
                "status",
                "started_at",
                "ends_at",
                "cancelled_at",
                "auto_renew",
                "created_at",
            )
        ),
        "course_grants": list(
            grants.values("id", "course__code", "expires_at", "source", "created_at")
        ),
        "ai_tokens": account.values("period_start", "quota", "used").first(),
    }
