from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.fields import DateTimeField
from etrainer.api.pagination import CursorPagination, paginated_response, paginated_schema
from learning.models import EXAM_CODE_MAX_LENGTH
from learning.selectors import exam_history_get, exam_history_list, streak_summary
from learning.services.exams import exam_history_record

# PositiveIntegerField's range on every engine.
MAX_INT = 2_147_483_647


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know (DRF silently drops them by default)."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return attrs


@extend_schema_serializer(component_name="ExamHistory")
class ExamHistoryOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    exam_code = serializers.CharField()
    score = serializers.IntegerField()
    max_score = serializers.IntegerField()
    duration_s = serializers.IntegerField()
    taken_at = DateTimeField()
    created_at = DateTimeField()


class ExamHistoryPagination(CursorPagination):
    # DRF takes a string or a sequence of them; the stubs only know the string.
    ordering = ("-taken_at", "-id")  # type: ignore[assignment]


class ExamHistoryApi(APIView):
    """GET: my exam histories, newest first (cursor pages). POST: record one."""

    pagination_class = ExamHistoryPagination

    @extend_schema_serializer(component_name="ExamHistoryFilter")
    class FilterSerializer(serializers.Serializer):
        exam_code = serializers.CharField(max_length=EXAM_CODE_MAX_LENGTH, required=False)
        taken_after = DateTimeField(required=False)
        taken_before = DateTimeField(required=False)

        def validate(self, attrs):
            after, before = attrs.get("taken_after"), attrs.get("taken_before")
            if after and before and after > before:
                raise serializers.ValidationError(
                    {"taken_after": [_("taken_after must not be later than taken_before.")]}
                )
            return attrs

    @extend_schema_serializer(component_name="ExamHistoryInput")
    class InputSerializer(StrictSerializer):
        exam_code = serializers.CharField(max_length=EXAM_CODE_MAX_LENGTH)
        score = serializers.IntegerField(min_value=0, max_value=MAX_INT)
        max_score = serializers.IntegerField(min_value=1, max_value=MAX_INT)
        duration_s = serializers.IntegerField(min_value=0, max_value=MAX_INT)
        taken_at = DateTimeField(required=False)

    @extend_schema(
        operation_id="exams_history_list",
        parameters=[FilterSerializer],
        responses=paginated_schema(
            ExamHistoryOutputSerializer, name="PaginatedExamHistoryList", cursor=True
        ),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        histories = exam_history_list(user=request.user, **filters.validated_data)
        return paginated_response(self, request, histories, ExamHistoryOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: ExamHistoryOutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exam = exam_history_record(user=request.user, **serializer.validated_data)
        return Response(ExamHistoryOutputSerializer(exam).data, status=status.HTTP_201_CREATED)


class ExamHistoryDetailApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("exam_id", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=ExamHistoryOutputSerializer,
    )
    def get(self, request, exam_id: str):
        exam = exam_history_get(user=request.user, exam_id=exam_id)
        return Response(ExamHistoryOutputSerializer(exam).data)


class StreakApi(APIView):
    @extend_schema_serializer(component_name="Streak")
    class OutputSerializer(serializers.Serializer):
        current = serializers.IntegerField()
        longest = serializers.IntegerField()
        last_active_on = serializers.DateField(allow_null=True)
        today = serializers.DateField(help_text="Today in the user's timezone.")
        active_today = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(streak_summary(user=request.user)).data)
