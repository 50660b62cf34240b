from django import forms
from django.contrib import admin

from etrainer.api.errors import ApplicationError
from subscriptions.models import (
    AiTokenAccount,
    Course,
    CourseGrant,
    Plan,
    PlanPrice,
    Subscription,
)
from subscriptions.money import format_amount
from subscriptions.services import subscription_staff_check, subscription_staff_save


class PlanPriceInline(admin.TabularInline):
    """One row per currency; the amount in the currency's minor unit (cents, whole đồng)."""

    model = PlanPrice
    extra = 1
    fields = ("currency", "amount", "stripe_price_id")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "tier",
        "price_list",
        "duration_days",
        "ai_tokens_per_period",
        "is_active",
    )
    list_filter = ("is_active", "tier")
    search_fields = ("code", "name")
    ordering = ("tier", "code")
    inlines = [PlanPriceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("prices")

    @admin.display(description="Prices")
    def price_list(self, plan: Plan) -> str:
        prices = plan.prices.all()
        return ", ".join(format_amount(p.amount, p.currency) for p in prices) or "free"


class SubscriptionAdminForm(forms.ModelForm):
    """Shows the services' refusals (a second live subscription) as form errors, not a 500."""

    class Meta:
        model = Subscription
        fields = ("user", "plan", "status", "started_at", "ends_at", "cancelled_at", "auto_renew")

    def clean(self):
        cleaned = super().clean()
        edited = Subscription(
            pk=self.instance.pk,
            user_id=getattr(cleaned.get("user"), "pk", None),
            status=cleaned.get("status"),
            ends_at=cleaned.get("ends_at"),
        )
        try:
            subscription_staff_check(subscription=edited)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error
        return cleaned


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Saves go through ``subscription_staff_save``: the live rule and the AI-token quota."""

    form = SubscriptionAdminForm
    list_display = ("user", "plan", "status", "started_at", "ends_at", "auto_renew", "cancelled_at")
    list_filter = ("status", "plan", "auto_renew")
    search_fields = ("user__email", "plan__code", "stripe_subscription_id", "checkout_session_id")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "plan")
    date_hierarchy = "ends_at"
    readonly_fields = (
        "created_at", "checkout_session_id", "stripe_subscription_id", "billing_event_at",
    )  # fmt: skip

    def save_model(self, request, obj, form, change):
        subscription_staff_save(subscription=obj)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "min_tier", "is_published", "created_at")
    list_filter = ("is_published", "min_tier")
    search_fields = ("code", "title")


@admin.register(CourseGrant)
class CourseGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "course", "source", "expires_at", "created_at")
    list_filter = ("source",)
    search_fields = ("user__email", "course__code", "course__title")
    autocomplete_fields = ("user", "course")
    list_select_related = ("user", "course")


@admin.register(AiTokenAccount)
class AiTokenAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "period_start", "quota", "used")
    list_filter = ("period_start",)
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)
    list_select_related = ("user",)
