"""The subscriptions section of a person's data export (``accounts.signals.user_data_export``).

Rows are built from model instances: ``values("plan__code")`` across the relation does not
return the code on the MongoDB backend."""

from django.dispatch import receiver

from accounts.signals import user_data_export
from subscriptions.models import AiTokenAccount, CourseGrant, Subscription


@receiver(user_data_export, dispatch_uid="subscriptions-export")
def export_subscriptions(sender, user, **kwargs) -> dict:
    subscriptions = (
        Subscription.objects.filter(user=user).select_related("plan").order_by("created_at", "pk")
    )
    grants = CourseGrant.objects.filter(user=user).select_related("course").order_by("created_at")
    account = AiTokenAccount.objects.filter(user=user)
    return {
        "subscriptions": [
            {
                "id": subscription.pk,
                "plan": subscription.plan.code,
                "status": subscription.status,
                "started_at": subscription.started_at,
                "ends_at": subscription.ends_at,
                "cancelled_at": subscription.cancelled_at,
                "auto_renew": subscription.auto_renew,
                "created_at": subscription.created_at,
            }
            for subscription in subscriptions
        ],
        "course_grants": [
            {
                "id": grant.pk,
                "course": grant.course.code,
                "expires_at": grant.expires_at,
                "source": grant.source,
                "created_at": grant.created_at,
            }
            for grant in grants
        ],
        "ai_tokens": account.values("period_start", "quota", "used").first(),
    }
