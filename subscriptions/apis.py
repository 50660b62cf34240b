"""Subscriptions, access checks and AI tokens (DESIGN.md §7). Views are thin: one per operation.

Every view authenticates with ``CachedJWTAuthentication`` (user entry and access keys in one
Redis round trip) or the session. Another user's objects answer 404, never 403.
"""

from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.authentication import LanguageSessionAuthentication
from etrainer.api.fast_path import BearerGetFastPath
from etrainer.api.fields import DateTimeField
from etrainer.api.pagination import PageNumberPagination, paginated_response, paginated_schema
from etrainer.api.schema import error_response
from subscriptions import selectors, services
from subscriptions.authentication import CachedJWTAuthentication
from subscriptions.list_cache import CachedPublicList
from subscriptions.money import (
    amount_view,
    currency_for_language,
    is_known_currency,
    normalize_currency,
)
from subscriptions.request_context import request_lookup
from subscriptions.selectors import default_price

JSON_CONTENT_TYPE = "application/json"  # what JsonResponse sends
SUBSCRIPTION_ID = OpenApiParameter("subscription_id", str, OpenApiParameter.PATH)
COURSE_ID = OpenApiParameter("course_id", str, OpenApiParameter.PATH)
CONFLICT = error_response(
    "Conflicts with the subscription's current state; details.reason says how "
    "(already_subscribed, plan_inactive, same_plan, subscription_not_live, already_cancelled, "
    "changed_concurrently, plan_not_purchasable, checkout_required, renews_automatically, "
    "currency_not_offered: details.offered lists the plan's currencies)."
)


class SubscriptionsApi(APIView):
    authentication_classes = [CachedJWTAuthentication, LanguageSessionAuthentication]
    permission_classes = [IsAuthenticated]


class PriceOutputSerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        help_text="In the currency's minor unit: cents for EUR (999 = 9.99), whole đồng for VND."
    )
    currency = serializers.CharField(help_text="ISO 4217 code.")
    decimals = serializers.IntegerField(help_text="Digits after the decimal point: EUR 2, VND 0.")
    display = serializers.CharField(
        help_text="Formatted for the response's language: vi '199.000 ₫', en '₫199,000', '€9.99'."
    )


class PlanOutputSerializer(serializers.Serializer):
    """A plan and its prices, one per currency. ``price_cents``/``currency`` are kept for older
    clients: the price in the language's currency (``CURRENCY_BY_LANGUAGE``), else the first."""

    id = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    is_paid = serializers.BooleanField()
    prices = serializers.SerializerMethodField()
    price_cents = serializers.SerializerMethodField(
        help_text="Deprecated: ``prices``. The default price's amount in minor units."
    )
    currency = serializers.SerializerMethodField(help_text="Deprecated: ``prices``.")
    duration_days = serializers.IntegerField()
    tier = serializers.IntegerField()
    ai_tokens_per_period = serializers.IntegerField()

    @extend_schema_field(PriceOutputSerializer(many=True))
    def get_prices(self, plan) -> list[dict]:
        return [amount_view(price.amount, price.currency) for price in plan.prices.all()]

    def get_price_cents(self, plan) -> int:
        price = default_price(plan)
        return price.amount if price else 0

    def get_currency(self, plan) -> str:
        price = default_price(plan)
        return price.currency if price else currency_for_language(translation.get_language())


class PlanListApi(CachedPublicList, SubscriptionsApi):
    """The plans on sale, lowest tier first. Served from the cache; any change shows at once."""

    permission_classes = [AllowAny]
    pagination_class = PageNumberPagination
    public_list_family = "plans"

    @extend_schema(responses=paginated_schema(PlanOutputSerializer, name="PaginatedPlanList"))
    def get(self, request):
        return paginated_response(self, request, selectors.plan_list(), PlanOutputSerializer)


class SubscriptionOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    plan = serializers.CharField(source="plan.code")
    plan_name = serializers.CharField(source="plan.name")
    tier = serializers.IntegerField(source="plan.tier")
    status = serializers.CharField()
    started_at = DateTimeField()
    ends_at = DateTimeField()
    cancelled_at = DateTimeField(allow_null=True)
    auto_renew = serializers.BooleanField(
        help_text="Whether it renews at its end (Stripe-billed: not cancel_at_period_end)."
    )
    currency = serializers.CharField(
        help_text="The currency a paid subscription is billed in (ISO 4217); empty for free."
    )
    checkout_url = serializers.SerializerMethodField(
        help_text="Where to pay a pending paid subscription (a Stripe Checkout page); else empty."
    )

    def get_checkout_url(self, subscription) -> str:
        url = subscription.checkout_url if subscription.status == "pending" else ""
        request = self.context.get("request")
        return request.build_absolute_uri(url) if url and request else url


class PlanInputSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=32)


class SubscribeInputSerializer(PlanInputSerializer):
    currency = serializers.CharField(
        min_length=3,
        max_length=3,
        required=False,
        help_text="ISO 4217 code of the price to pay (a paid plan); default: the learner's "
        "language's currency (CURRENCY_BY_LANGUAGE) if the plan is sold in it.",
    )

    def validate_currency(self, value: str) -> str:
        code = normalize_currency(value)
        if not is_known_currency(code):
            raise serializers.ValidationError(_("Unknown currency (an ISO 4217 code: EUR, VND)."))
        return code


class SubscriptionListCreateApi(SubscriptionsApi):
    """GET: my subscriptions, newest first. POST: subscribe to a plan. A free plan is active at
    once (one live subscription at a time); a paid plan answers a ``pending`` subscription with a
    ``checkout_url``: it becomes active only when Stripe's webhook reports the payment."""

    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="subscriptions_list",
        responses=paginated_schema(SubscriptionOutputSerializer, name="PaginatedSubscriptionList"),
    )
    def get(self, request):
        queryset = selectors.subscription_list(user=request.user)
        return paginated_response(self, request, queryset, SubscriptionOutputSerializer)

    @extend_schema(
        request=SubscribeInputSerializer,
        responses={201: SubscriptionOutputSerializer, 409: CONFLICT},
    )
    def post(self, request):
        serializer = SubscribeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(
            user=request.user,
            plan_code=serializer.validated_data["plan"],
            currency=serializer.validated_data.get("currency"),
        )
        data = SubscriptionOutputSerializer(subscription, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class SubscriptionDetailApi(SubscriptionsApi):
    @extend_schema(parameters=[SUBSCRIPTION_ID], responses=SubscriptionOutputSerializer)
    def get(self, request, subscription_id):
        subscription = selectors.get_by_id(
            selectors.subscription_list(user=request.user), subscription_id, what="Subscription"
        )
        return Response(SubscriptionOutputSerializer(subscription).data)


class SubscriptionCancelApi(SubscriptionsApi):
    @extend_schema(
        parameters=[SUBSCRIPTION_ID],
        request=None,
        responses={200: SubscriptionOutputSerializer, 409: CONFLICT},
    )
    def post(self, request, subscription_id):
        subscription = services.subscription_cancel(
            user=request.user, subscription_id=subscription_id
        )
        return Response(SubscriptionOutputSerializer(subscription).data)


class SubscriptionRenewApi(SubscriptionsApi):
    @extend_schema(
        parameters=[SUBSCRIPTION_ID],
        request=None,
        responses={200: SubscriptionOutputSerializer, 409: CONFLICT},
    )
    def post(self, request, subscription_id):
        subscription = services.subscription_renew(
            user=request.user, subscription_id=subscription_id
        )
        return Response(SubscriptionOutputSerializer(subscription).data)


class SubscriptionSwitchApi(SubscriptionsApi):
    @extend_schema(
        parameters=[SUBSCRIPTION_ID],
        request=PlanInputSerializer,
        responses={200: SubscriptionOutputSerializer, 409: CONFLICT},
    )
    def post(self, request, subscription_id):
        serializer = PlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_switch(
            user=request.user,
            subscription_id=subscription_id,
            plan_code=serializer.validated_data["plan"],
        )
        return Response(SubscriptionOutputSerializer(subscription).data)


class AiBalanceSerializer(serializers.Serializer):
    quota = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()


class AccessSummarySerializer(serializers.Serializer):
    """For the schema only: the summary is already a JSON-ready dict (no per-request serializer
    work on the hottest endpoint)."""

    class PlanSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        tier = serializers.IntegerField()

    class CurrentSubscriptionSerializer(serializers.Serializer):
        id = serializers.CharField()
        status = serializers.CharField()
        started_at = DateTimeField()
        ends_at = DateTimeField()
        auto_renew = serializers.BooleanField()

    class GrantSerializer(serializers.Serializer):
        course = serializers.CharField()
        expires_at = DateTimeField(allow_null=True)

    user = serializers.CharField()
    plan = PlanSerializer(allow_null=True)
    tier = serializers.IntegerField()
    subscription = CurrentSubscriptionSerializer(allow_null=True)
    ai_tokens = AiBalanceSerializer()
    grants = GrantSerializer(many=True)


class MyAccessApi(BearerGetFastPath, SubscriptionsApi):
    """My entitlement in one read: the live plan and tier, the subscription's end, the AI-token
    balance of this period and my course grants. Served from the access cache (no database query
    when warm); a change to any of them shows on the next call."""

    @extend_schema(responses=AccessSummarySerializer)
    def get(self, request):
        return Response(self.get_payload(request))

    def get_payload(self, request):
        return selectors.access_summary_for_request(request)

    def fast_response(self, request) -> HttpResponse:
        """The body as rendered once for these entries (``subscriptions.rendered``)."""
        return HttpResponse(
            selectors.access_summary_body_for_request(request), content_type=JSON_CONTENT_TYPE
        )


class CourseOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    code = serializers.CharField()
    title = serializers.CharField()
    min_tier = serializers.IntegerField()


class CourseListApi(CachedPublicList, SubscriptionsApi):
    """The published courses; ``min_tier`` is the plan tier that unlocks each (0 = free). Served
    from the cache; any change shows at once."""

    pagination_class = PageNumberPagination
    public_list_family = "courses"

    @extend_schema(responses=paginated_schema(CourseOutputSerializer, name="PaginatedCourseList"))
    def get(self, request):
        return paginated_response(self, request, selectors.course_list(), CourseOutputSerializer)


class CourseAccessOutputSerializer(serializers.Serializer):
    course = serializers.CharField()
    code = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.ChoiceField(choices=["free", "plan", "grant", "upgrade_required"])
    min_tier = serializers.IntegerField()
    tier = serializers.IntegerField()
    grant_expires_at = DateTimeField(allow_null=True)


class CourseAccessApi(BearerGetFastPath, SubscriptionsApi):
    """May I open this course? ``allowed`` with the ``reason``: free, plan (my tier reaches its
    ``min_tier``), grant (a course grant, until ``grant_expires_at``) or upgrade_required. An
    unknown or unpublished course is 404."""

    @staticmethod
    def access_prefetch(kwargs: dict) -> str | None:
        """Read the course entry in the authentication's round trip (well-formed ids only)."""
        course_id = str(kwargs.get("course_id", ""))
        return course_id if selectors.is_well_formed_id(course_id) else None

    @extend_schema(parameters=[COURSE_ID], responses=CourseAccessOutputSerializer)
    def get(self, request, course_id):
        return Response(self.get_payload(request, course_id))

    def get_payload(self, request, course_id):
        summary = selectors.access_summary_for_request(request)
        course = selectors.course_for_access(
            course_id=course_id,
            lookup=request_lookup(request),
            include_unpublished=request.user.is_staff,
        )
        return selectors.course_access(summary=summary, course=course)


class AiTokensApi(SubscriptionsApi):
    @extend_schema(responses=AiBalanceSerializer)
    def get(self, request):
        return Response(selectors.access_summary_for_request(request)["ai_tokens"])


class AiTokensConsumeApi(SubscriptionsApi):
    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(min_value=1, max_value=1_000_000)

        def to_internal_value(self, data):
            if isinstance(data, dict) and isinstance(data.get("amount"), float | bool):
                raise serializers.ValidationError({"amount": [_("A whole number is required.")]})
            return super().to_internal_value(data)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: AiBalanceSerializer,
            409: error_response(
                "Not enough tokens left this period (details.reason insufficient_tokens); "
                "nothing was spent."
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.ai_tokens_consume(
            user=request.user, amount=serializer.validated_data["amount"]
        )
        return Response(selectors.ai_balance(selectors.ai_entry(account)))
