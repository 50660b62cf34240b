from django.contrib import admin, messages

from etrainer.api.errors import ApplicationError
from payments.models import Payment, StripeCustomer, WebhookEvent, WebhookEventStatus
from payments.services import webhook_event_replay
from subscriptions.money import format_amount


@admin.register(StripeCustomer)
class StripeCustomerAdmin(admin.ModelAdmin):
    list_display = ("stripe_customer_id", "user", "created_at")
    search_fields = ("stripe_customer_id", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "stripe_customer_id", "created_at")


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = (
        "stripe_invoice_id", "user", "plan_code", "status", "amount_display", "period_end",
        "created_at",
    )  # fmt: skip
    list_filter = ("status", "currency", "plan_code")
    search_fields = ("stripe_invoice_id", "stripe_customer_id", "user__email", "plan_code")
    list_select_related = ("user",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, payment: Payment) -> str:
        """Formatted in its currency's own decimals (199.000 ₫, not 1990.00)."""
        return format_amount(payment.amount, payment.currency) if payment.currency else ""


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "status", "attempts", "created", "received_at")
    list_filter = ("status", "type")
    search_fields = ("event_id", "type")
    date_hierarchy = "received_at"
    readonly_fields = (
        "event_id", "type", "created", "payload", "status", "error", "attempts", "received_at",
        "processed_at",
    )  # fmt: skip
    actions = ["replay_failed"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay the selected failed events")
    def replay_failed(self, request, queryset):
        replayed = failed = 0
        for event in queryset.filter(status=WebhookEventStatus.FAILED):
            try:
                outcome = webhook_event_replay(event=event)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            if outcome.status == WebhookEventStatus.FAILED:
                failed += 1
            else:
                replayed += 1
        self.message_user(request, f"Replayed {replayed} event(s); {failed} failed again.")
