"""Job runs, the beat schedule with "run now", and the jobs dashboard page."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from etrainer.api.errors import ApplicationError
from jobs.models import JobRun
from jobs.selectors import job_dashboard
from jobs.services import periodic_task_run_now


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "status", "trigger", "started_at", "duration", "items", "task_id")
    list_filter = ("job", "status", "trigger")
    search_fields = ("job", "task_id", "error")
    ordering = ("-started_at",)
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/jobs/jobrun/change_list.html"
    readonly_fields = [field.name for field in JobRun._meta.fields]

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run: JobRun) -> str:
        if run.duration_ms is None:
            return "—"
        return f"{run.duration_ms / 1000:.1f} s"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        return [path("dashboard/", dashboard, name="jobs_dashboard"), *super().get_urls()]

    def dashboard_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": "Jobs dashboard",
            "opts": self.model._meta,
            "jobs": job_dashboard(),
        }
        return TemplateResponse(request, "admin/jobs/dashboard.html", context)


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """django-celery-beat's admin plus "run now", which records the run as a manual trigger."""

    actions = (*BeatPeriodicTaskAdmin.actions, "run_now")

    @admin.action(description="Run now (recorded as a manual run)")
    def run_now(self, request, queryset):
        for entry in queryset:
            try:
                queued = periodic_task_run_now(periodic_task=entry)
            except ApplicationError as error:
                self.message_user(request, f"{entry.name}: {error.message}", messages.ERROR)
                continue
            task_id = getattr(queued, "task_id", queued)
            self.message_user(request, f"{entry.name}: queued as task {task_id}", messages.SUCCESS)
