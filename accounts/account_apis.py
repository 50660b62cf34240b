"""Accounts a learner runs alone: sign-up, email verification, password reset and change,
erasure and export. Thin: each view validates its input and calls one service or selector."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import UserLanguage
from accounts.selectors import user_export
from accounts.services import (
    email_verify,
    password_change,
    password_reset_confirm,
    password_reset_request,
    user_register,
    verification_email_resend,
)

ACCEPTED_BODY = {"detail": "Accepted. If the address can be used, an email is on its way."}


@extend_schema_serializer(component_name="Accepted")
class AcceptedOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


def accepted() -> Response:
    """The one answer of every request that must not tell whether an address is registered."""
    return Response(ACCEPTED_BODY, status=status.HTTP_202_ACCEPTED)


class PublicApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)


class RegisterApi(PublicApi):
    @extend_schema_serializer(component_name="Register")
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, write_only=True)
        timezone = serializers.CharField(max_length=64, required=False, default="UTC")
        language = serializers.ChoiceField(choices=UserLanguage.choices, required=False)

    @extend_schema(
        summary="Sign up",
        description="Creates an inactive account and emails a verification link. A taken "
        "address gets the same answer (its owner is emailed instead).",
        request=InputSerializer,
        responses={202: AcceptedOutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_register(**serializer.validated_data)
        return accepted()


class VerifyEmailApi(PublicApi):
    @extend_schema_serializer(component_name="VerifyEmail")
    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=500)

    @extend_schema_serializer(component_name="VerifiedEmail")
    class OutputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        is_active = serializers.BooleanField()

    @extend_schema(
        summary="Verify the email address (activates the account)",
        request=InputSerializer,
        responses={200: OutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = email_verify(key=serializer.validated_data["key"])
        return Response(self.OutputSerializer(user).data)


@extend_schema_serializer(component_name="EmailOnly")
class EmailInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class VerifyEmailResendApi(PublicApi):
    @extend_schema(
        summary="Send the verification email again",
        request=EmailInputSerializer,
        responses={202: AcceptedOutputSerializer},
    )
    def post(self, request):
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification_email_resend(email=serializer.validated_data["email"])
        return accepted()


class PasswordResetApi(PublicApi):
    @extend_schema(
        summary="Email a password reset link",
        description="Always 202, whether or not the address is registered.",
        request=EmailInputSerializer,
        responses={202: AcceptedOutputSerializer},
    )
    def post(self, request):
        serializer = EmailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(email=serializer.validated_data["email"])
        return accepted()


class PasswordResetConfirmApi(PublicApi):
    @extend_schema_serializer(component_name="PasswordResetConfirm")
    class InputSerializer(serializers.Serializer):
        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=128)
        new_password = serializers.CharField(max_length=128, write_only=True)

    @extend_schema(
        summary="Set a new password with the emailed link",
        description="Ends every session of the user: earlier refresh and access tokens are "
        "refused. The link works once.",
        request=InputSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    @extend_schema_serializer(component_name="PasswordChange")
    class InputSerializer(serializers.Serializer):
        current_password = serializers.CharField(max_length=128, write_only=True)
        new_password = serializers.CharField(max_length=128, write_only=True)

    @extend_schema(
        summary="Change my password",
        description="Ends every session of the user, this one included: log in again.",
        request=InputSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_change(user=request.user, **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportApi(APIView):
    @extend_schema(
        summary="Export all of my data as JSON",
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="`user` (the profile), `exported_at`, and one key per section: "
                "`exam_histories`, `streak`, `notifications`, `media`, `subscriptions`, "
                "`course_grants`, `ai_tokens`.",
            )
        },
    )
    def get(self, request):
        return Response(user_export(user=request.user))
