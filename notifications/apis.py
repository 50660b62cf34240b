from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.pagination import CursorPagination, paginated_response, paginated_schema
from notifications.models import NotificationChannel
from notifications.selectors import notification_list
from notifications.serializers import NotificationOutputSerializer
from notifications.services.reading import notification_mark_read, notifications_mark_all_read


class NotificationPagination(CursorPagination):
    # DRF takes a string or a sequence of them; the stubs only know the string.
    ordering = ("-created_at", "-id")  # type: ignore[assignment]


class NotificationListApi(APIView):
    """My notifications, newest first (cursor pages); ``?unread=true`` for the unread ones."""

    pagination_class = NotificationPagination

    @extend_schema_serializer(component_name="NotificationFilter")
    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, allow_null=True, default=None)
        channel = serializers.ChoiceField(choices=NotificationChannel.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=paginated_schema(
            NotificationOutputSerializer, name="PaginatedNotificationList", cursor=True
        ),
    )
    def get(self, request):
        # A plain dict: with a QueryDict DRF would read a missing boolean as False.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        notifications = notification_list(user=request.user, **filters.validated_data)
        return paginated_response(self, request, notifications, NotificationOutputSerializer)


class NotificationMarkReadApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("notification_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        request=None,
        responses=NotificationOutputSerializer,
    )
    def post(self, request, notification_id: str):
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(NotificationOutputSerializer(notification).data)


class NotificationMarkAllReadApi(APIView):
    @extend_schema_serializer(component_name="NotificationsMarkedRead")
    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField(help_text="How many notifications were unread.")

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        marked = notifications_mark_all_read(user=request.user)
        return Response(self.OutputSerializer({"marked": marked}).data)
