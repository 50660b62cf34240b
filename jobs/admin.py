"""Job runs, the beat schedule with "run now", and the jobs dashboard page."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from etrainer.api.errors import ApplicationError
from jobs.models import JobRun, JobStatus
from jobs.selectors import job_dashboard, job_run_for_task
from jobs.services import QueuedJob, periodic_task_run_now


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
    """django-celery-beat's admin with one run action, ours: beat's "Run selected tasks" sends the
    task with the entry's arguments, so the job records the run as triggered by beat."""

    actions = (*(a for a in BeatPeriodicTaskAdmin.actions if a != "run_tasks"), "run_now")

    @admin.action(description="Run selected tasks now (recorded as manual runs)")
    def run_now(self, request, queryset):
        for entry in queryset:
            try:
                queued = periodic_task_run_now(periodic_task=entry)
            except ApplicationError as error:
                self.message_user(request, f"{entry.name}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, *_run_now_message(entry.name, queued))


def _run_now_message(name: str, queued: QueuedJob | str) -> tuple[str, int]:
    """Eager (no broker): what the run did, with a link to it. Queued: where its run will show."""
    task_id = queued.task_id if isinstance(queued, QueuedJob) else queued
    run = job_run_for_task(task_id) if isinstance(queued, QueuedJob) else None
    if run is None:
        runs = f"{reverse('admin:jobs_jobrun_changelist')}?q={task_id}"
        text = 'Queued {} as task {}: <a href="{}">its run</a> appears once a worker starts it.'
        return format_html(text, name, task_id, runs), messages.SUCCESS
    items = ngettext("%(count)d item", "%(count)d items", run.items) % {"count": run.items}
    seconds = f"{(run.duration_ms or 0) / 1000:.1f}"
    text = 'Ran {} now: {}, {} in {} s{}. <a href="{}">See the run</a>.'
    error = f" ({run.error})" if run.error else ""
    link = reverse("admin:jobs_jobrun_change", args=[run.pk])
    level = messages.SUCCESS if run.status == JobStatus.SUCCEEDED else messages.WARNING
    return format_html(text, name, run.status, items, seconds, error, link), level
