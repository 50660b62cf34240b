from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

EXAM_CODE_MAX_LENGTH = 64


class ExamHistory(models.Model):
    """One exam a learner took. Append-mostly; pruned by the retention job on ``taken_at``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_histories"
    )
    exam_code = models.CharField(max_length=EXAM_CODE_MAX_LENGTH)
    score = models.PositiveIntegerField()
    max_score = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    duration_s = models.PositiveIntegerField()
    taken_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "exam histories"
        indexes = [
            # "my history" pages (cursor on -taken_at) and the weekly report's per-user range
            models.Index(fields=["user", "taken_at"], name="learning_exam_user_taken_idx"),
            # the exam-code filter of the list
            models.Index(
                fields=["user", "exam_code", "taken_at"], name="learning_exam_user_code_idx"
            ),
            # the retention job: taken_at < cutoff
            models.Index(fields=["taken_at"], name="learning_exam_taken_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.exam_code} {self.score}/{self.max_score}"


class Streak(models.Model):
    """Consecutive local days with activity. ``last_active_on`` is a date in the user's timezone."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="streak"
    )
    current = models.PositiveIntegerField(default=0)
    longest = models.PositiveIntegerField(default=0)
    last_active_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # the streak job's catch-all: live streaks whose last activity is before a cutoff
            models.Index(fields=["last_active_on", "current"], name="learning_streak_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.current} (longest {self.longest})"
