from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from etrainer.api.fields import DateTimeField
from jobs.models import JobTrigger
from jobs.registry import JOBS
from jobs.selectors import job_dashboard
from jobs.services import job_schedule


class JobRunSummarySerializer(serializers.Serializer):
    class Meta:
        ref_name = "JobRunSummary"

    id = serializers.CharField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    started_at = DateTimeField()
    finished_at = DateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    items = serializers.IntegerField()
    error = serializers.CharField()
    task_id = serializers.CharField()


class JobFiguresSerializer(serializers.Serializer):
    class Meta:
        ref_name = "JobStats"

    job = serializers.CharField()
    task = serializers.CharField()
    description = serializers.CharField()
    schedule = serializers.CharField()
    schedule_in_words = serializers.CharField()
    enabled = serializers.BooleanField()
    last_run = JobRunSummarySerializer(allow_null=True)
    runs_7d = serializers.DictField(source="runs", child=serializers.IntegerField())
    success_rate_7d = serializers.FloatField(source="success_rate", allow_null=True)
    avg_duration_ms_7d = serializers.IntegerField(source="avg_duration_ms", allow_null=True)
    next_run = DateTimeField(allow_null=True)


class JobStatsApi(APIView):
    """Per job: last run, runs by status over 7 days, success rate, mean duration, next run."""

    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobStatsOutput"

        jobs = JobFiguresSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer({"jobs": job_dashboard()}).data)


class JobScheduleApi(APIView):
    """Queue a registered job now or at ``eta`` (within the broker's visibility timeout)."""

    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobScheduleInput"

        job = serializers.ChoiceField(
            choices=(), error_messages={"invalid_choice": "Unknown job: {input}."}
        )
        eta = DateTimeField(required=False, allow_null=True)

        def __init__(self, *args, **kwargs):
            """The registry's job names, read when the serializer is built: the OpenAPI schema
            lists them (an enum), and a job registered at run time is known at once."""
            super().__init__(*args, **kwargs)
            cast(serializers.ChoiceField, self.fields["job"]).choices = sorted(JOBS)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "JobScheduleQueued"

        job = serializers.CharField()
        task = serializers.CharField()
        task_id = serializers.CharField()
        eta = DateTimeField(allow_null=True)
        mode = serializers.CharField(help_text="queued (sent to the broker) or eager (ran inline)")
        state = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queued = job_schedule(
            job=serializer.validated_data["job"],
            eta=serializer.validated_data.get("eta"),
            trigger=JobTrigger.API,
        )
        return Response(self.OutputSerializer(queued).data, status=status.HTTP_202_ACCEPTED)
