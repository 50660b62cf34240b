"""The learning section of a person's data export (``accounts.signals.user_data_export``)."""

from django.dispatch import receiver

from accounts.signals import user_data_export
from learning.models import ExamHistory, Streak


@receiver(user_data_export, dispatch_uid="learning-export")
def export_learning(sender, user, **kwargs) -> dict:
    exams = ExamHistory.objects.filter(user=user).order_by("taken_at", "pk")
    streak = Streak.objects.filter(user=user).values("current", "longest", "last_active_on")
    return {
        "exam_histories": list(
            exams.values(
                "id", "exam_code", "score", "max_score", "duration_s", "taken_at", "created_at"
            )
        ),
        "streak": streak.first(),
    }
