"""Stripe's webhook and the development checkout. Views are thin: the services do the work."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.authentication import LanguageSessionAuthentication
from etrainer.api.errors import ApplicationError, ErrorCode
from etrainer.api.fields import DateTimeField
from etrainer.api.pagination import PageNumberPagination, paginated_response, paginated_schema
from etrainer.api.schema import error_response
from payments import selectors, services
from payments.models import WebhookEventStatus
from subscriptions.apis import PriceOutputSerializer
from subscriptions.authentication import CachedJWTAuthentication
from subscriptions.money import amount_view, currency_decimals, format_amount

SESSION_ID = OpenApiParameter("session_id", str, OpenApiParameter.PATH)


class WebhookOutputSerializer(serializers.Serializer):
    event = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    duplicate = serializers.BooleanField()


class StripeWebhookApi(APIView):
    """Stripe's events (``Stripe-Signature`` checked with ``STRIPE_WEBHOOK_SECRET``). A bad or
    missing signature is a 400 and changes nothing; an event id seen before changes nothing
    (``duplicate``); one that could not be applied is a 503, so that Stripe sends it again."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={
            200: WebhookOutputSerializer,
            400: error_response("Missing or invalid Stripe signature (reason invalid_signature)."),
            503: error_response("The event was stored but could not be applied; Stripe retries."),
        },
    )
    def post(self, request):
        event, applied = services.webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        if event.status == WebhookEventStatus.FAILED:
            raise ApplicationError(
                ErrorCode.SERVICE_UNAVAILABLE,
                _("The event could not be applied yet."),
                status=503,
                details={"event": event.event_id},
            )
        return Response(
            {
                "event": event.event_id,
                "type": event.type,
                "status": event.status,
                "duplicate": not applied,
            }
        )


class DevCheckoutOutputSerializer(serializers.Serializer):
    session = serializers.CharField()
    subscription = serializers.CharField()
    plan = serializers.CharField()
    price = PriceOutputSerializer(
        help_text="What the learner pays, in the subscription's currency."
    )
    status = serializers.CharField()
    complete_url = serializers.CharField()


class DevCheckoutApi(APIView):
    """Development only (``STRIPE_DEV_CHECKOUT``, refused by production settings): the checkout
    a pending paid subscription points at when no Stripe keys are set. 404 when it is off."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[SESSION_ID], responses=DevCheckoutOutputSerializer)
    def get(self, request, session_id):
        subscription = services.dev_checkout_session(user=request.user, session_id=session_id)
        price = subscription.plan.price_in(subscription.currency)
        data = {
            "session": session_id,
            "subscription": str(subscription.pk),
            "plan": subscription.plan.code,
            "price": amount_view(price.amount if price else 0, subscription.currency),
            "status": subscription.status,
            "complete_url": request.build_absolute_uri(request.path + "/complete"),
        }
        return Response(DevCheckoutOutputSerializer(data).data)


class PaymentOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    invoice = serializers.CharField(source="stripe_invoice_id")
    plan = serializers.CharField(source="plan_code")
    status = serializers.CharField()
    amount = serializers.IntegerField(
        help_text="In the currency's minor unit, as Stripe charged it: cents for EUR, đồng for VND."
    )
    currency = serializers.CharField()
    decimals = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField(help_text="Formatted for the response's language.")
    period_end = DateTimeField(allow_null=True)
    created_at = DateTimeField()

    def get_decimals(self, payment) -> int:
        return currency_decimals(payment.currency) if payment.currency else 0

    def get_display(self, payment) -> str:
        return format_amount(payment.amount, payment.currency) if payment.currency else ""


class PaymentListApi(APIView):
    """My payments (Stripe invoices, paid or failed), newest first, each amount formatted."""

    authentication_classes = [CachedJWTAuthentication, LanguageSessionAuthentication]
    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination

    @extend_schema(responses=paginated_schema(PaymentOutputSerializer, name="PaginatedPaymentList"))
    def get(self, request):
        queryset = selectors.payment_list(user=request.user)
        return paginated_response(self, request, queryset, PaymentOutputSerializer)


class DevCheckoutCompleteApi(APIView):
    """Development only: pay the session; the signed ``checkout.session.completed`` event goes
    through the webhook's own verification and handling."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[SESSION_ID], request=None, responses=WebhookOutputSerializer)
    def post(self, request, session_id):
        event = services.dev_checkout_complete(user=request.user, session_id=session_id)
        return Response(
            {
                "event": event.event_id,
                "type": event.type,
                "status": event.status,
                "duplicate": False,
            }
        )
