from collections.abc import Mapping

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.login_limits import login_retry_after
from accounts.models import User, UserLanguage
from accounts.services import auth_logout, user_erase, user_sessions_end, user_update_profile
from accounts.tokens import RevocableRefreshToken
from etrainer.api.fields import DateTimeField
from etrainer.api.schema import error_response


class UserOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField()
    timezone = serializers.CharField()
    language = serializers.CharField()
    is_staff = serializers.BooleanField()
    date_joined = DateTimeField()


class MeApi(APIView):
    @extend_schema_serializer(component_name="MeUpdate")
    class InputSerializer(serializers.Serializer):
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        timezone = serializers.CharField(max_length=64, required=False)
        language = serializers.ChoiceField(choices=UserLanguage.choices, required=False)

        def validate(self, attrs):
            unknown = set(self.initial_data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(dict.fromkeys(unknown, _("Unknown field.")))
            return attrs

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def patch(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, data=serializer.validated_data)
        return Response(UserOutputSerializer(user).data)

    @extend_schema_serializer(component_name="MeDelete")
    class DeleteInputSerializer(serializers.Serializer):
        password = serializers.CharField(max_length=128, write_only=True)

    @extend_schema(
        summary="Erase my account",
        description="Deletes the user and their histories, notifications, subscriptions, token "
        "account and media (files in storage too); payment records are kept anonymised. "
        'Needs the password in a JSON body: `{"password": "…"}` (OpenAPI tools do not show a '
        "DELETE body).",
        request=DeleteInputSerializer,
        responses={
            204: None,
            400: error_response("The password is missing or wrong; nothing was deleted."),
        },
    )
    def delete(self, request):
        serializer = self.DeleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_erase(user=request.user, password=serializer.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_serializer(component_name="TokenPair")
class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenObtainApi(TokenObtainPairView):
    """simplejwt's token endpoint with revocable refresh tokens and a per-account lock (429)."""

    @extend_schema_serializer(component_name="TokenObtain")
    class InputSerializer(TokenObtainPairSerializer):
        token_class = RevocableRefreshToken

    serializer_class = InputSerializer

    @extend_schema(
        request=InputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            401: error_response("Wrong email or password, or the account is inactive."),
        },
    )
    def post(self, request, *args, **kwargs):
        data = request.data if isinstance(request.data, Mapping) else {}
        retry_after = login_retry_after(request, str(data.get(User.USERNAME_FIELD) or ""))
        if retry_after:
            raise Throttled(wait=retry_after, detail=_("Too many failed logins for this account."))
        return super().post(request, *args, **kwargs)


class TokenRefreshApi(TokenRefreshView):
    """Trade a refresh token for a new pair; the old refresh token is revoked (single use)."""

    @extend_schema_serializer(component_name="TokenRefresh")
    class InputSerializer(TokenRefreshSerializer):
        token_class = RevocableRefreshToken
        refresh = serializers.CharField(write_only=True)

        def validate(self, attrs):
            """simplejwt looks the token's user up with ``get()``: a deleted user's token would
            raise ``DoesNotExist`` (a 500). It is a token that no longer names anyone: 401."""
            try:
                return super().validate(attrs)
            except User.DoesNotExist as error:
                raise InvalidToken("The token's user no longer exists.") from error

    serializer_class = InputSerializer

    @extend_schema(
        request=InputSerializer,
        responses={
            200: TokenPairOutputSerializer,
            401: error_response("The refresh token is invalid, expired or already used."),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class LogoutApi(APIView):
    """Revoke a refresh token. The token is the credential, so no access token is needed."""

    authentication_classes = ()
    permission_classes = ()

    @extend_schema_serializer(component_name="Logout")
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    def get_authenticate_header(self, request) -> str:
        """Without it DRF turns a bad token's 401 into a 403 (there is no authenticator)."""
        return 'Bearer realm="api"'

    @extend_schema(
        request=InputSerializer,
        responses={204: None, 401: error_response("The refresh token is invalid or expired.")},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            auth_logout(refresh=serializer.validated_data["refresh"])
        except TokenError as error:
            raise InvalidToken(error.args[0]) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """End every session of the authenticated user: all refresh tokens are revoked and every access
    token issued so far (this one included) stops working at once. Log in again afterwards."""

    @extend_schema(summary="Log out everywhere", request=None, responses={204: None})
    def post(self, request):
        user_sessions_end(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
