from django.urls import path, re_path

from payments import apis

SESSION = r"[A-Za-z0-9_-]+"

urlpatterns = [
    path("payments", apis.PaymentListApi.as_view(), name="payment-list"),
    path("payments/stripe/webhook", apis.StripeWebhookApi.as_view(), name="stripe-webhook"),
    re_path(
        rf"^payments/dev/checkout/(?P<session_id>{SESSION})$",
        apis.DevCheckoutApi.as_view(),
        name="payments-dev-checkout",
    ),
    re_path(
        rf"^payments/dev/checkout/(?P<session_id>{SESSION})/complete$",
        apis.DevCheckoutCompleteApi.as_view(),
        name="payments-dev-checkout-complete",
    ),
]
