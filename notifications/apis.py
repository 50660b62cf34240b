from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.fields import DateTimeField
from etrainer.api.pagination import CursorPagination, paginated_schema
from notifications.models import NotificationChannel
from notifications.selectors import notification_list
from notifications.services import notification_mark_read, notifications_mark_all_read


@extend_schema_serializer(component_name="Notification")
class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    channel = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    payload = serializers.JSONField()
    created_at = DateTimeField()
    read_at = DateTimeField(allow_null=True)
    sent_at = DateTimeField(allow_null=True)


class NotificationPagination(CursorPagination):
    ordering = ("-created_at", "-id")


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
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(notifications, request, view=self)
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


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
