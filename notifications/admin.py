from django.contrib import admin, messages

from notifications.models import Notification
from notifications.services.email_queue import notification_emails_queue
from notifications.services.reading import notifications_mark_read


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "kind", "channel", "created_at", "read_at", "sent_at")
    list_select_related = ("user",)
    list_filter = ("channel", "kind")
    search_fields = ("title", "dedupe_key", "user__email")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "sent_at", "sending_until", "dedupe_key")
    actions = ("mark_read", "queue_unsent_emails")

    def has_add_permission(self, request):
        """Notices are created by ``notify()`` only: it owns the dedupe key and the email queue."""
        return False

    @admin.action(description="Mark selected notifications read")
    def mark_read(self, request, queryset):
        marked = notifications_mark_read(notifications=queryset)
        self.message_user(request, f"{marked} notification(s) marked read.")

    @admin.action(description="Queue the email of selected unsent email notifications")
    def queue_unsent_emails(self, request, queryset):
        result = notification_emails_queue(
            notification_ids=list(queryset.values_list("pk", flat=True))
        )
        level = messages.SUCCESS if result.queued == result.claimable else messages.WARNING
        skipped = result.selected - result.claimable
        self.message_user(
            request,
            f"{result.queued} of {result.claimable} email(s) queued; {skipped} skipped "
            "(not an email, already sent, or being sent).",
            level=level,
        )
