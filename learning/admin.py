from django.contrib import admin

from learning.models import ExamHistory, Streak


@admin.register(ExamHistory)
class ExamHistoryAdmin(admin.ModelAdmin):
    list_display = ("exam_code", "user", "score", "max_score", "duration_s", "taken_at")
    list_select_related = ("user",)
    search_fields = ("exam_code", "user__email")
    date_hierarchy = "taken_at"
    ordering = ("-taken_at",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Streak)
class StreakAdmin(admin.ModelAdmin):
    list_display = ("user", "current", "longest", "last_active_on", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    ordering = ("-current",)
    raw_id_fields = ("user",)
    readonly_fields = ("updated_at",)
