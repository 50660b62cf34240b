"""The notification's one public shape: the REST list (``GET /api/notifications``) and the
WebSocket push both use it, so clients parse one representation."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from etrainer.api.fields import DateTimeField


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
