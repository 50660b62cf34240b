from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

EXAM_CODE_MAX_LENGTH = 64


class ExamHistory(models.Model):
    """One exam a learner took. Append-mostly; pruned by the retention job on ``taken_at``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exam_histories",
        verbose_name=_("user"),
    )
    exam_code = models.CharField(max_length=EXAM_CODE_MAX_LENGTH, verbose_name=_("exam code"))
    score = models.PositiveIntegerField(verbose_name=_("score"))
    max_score = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], verbose_name=_("max score")
    )
    duration_s = models.PositiveIntegerField(verbose_name=_("duration s"))
    taken_at = models.DateTimeField(verbose_name=_("taken at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("exam history")
        verbose_name_plural = _("exam histories")
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="streak",
        verbose_name=_("user"),
    )
    current = models.PositiveIntegerField(default=0, verbose_name=_("current"))
    longest = models.PositiveIntegerField(default=0, verbose_name=_("longest"))
    last_active_on = models.DateField(null=True, blank=True, verbose_name=_("last active on"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("streak")
        verbose_name_plural = _("streaks")
        indexes = [
            # the streak job's catch-all: live streaks whose last activity is before a cutoff
            models.Index(fields=["last_active_on", "current"], name="learning_streak_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.current} (longest {self.longest})"
