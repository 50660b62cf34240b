from django.urls import path

from accounts.account_apis import (
    MeExportApi,
    PasswordChangeApi,
    PasswordResetApi,
    PasswordResetConfirmApi,
    RegisterApi,
    VerifyEmailApi,
    VerifyEmailResendApi,
)
from accounts.apis import LogoutAllApi, LogoutApi, MeApi, TokenObtainApi, TokenRefreshApi

urlpatterns = [
    path("auth/token", TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", LogoutApi.as_view(), name="logout"),
    path("auth/logout-all", LogoutAllApi.as_view(), name="logout-all"),
    path("auth/register", RegisterApi.as_view(), name="register"),
    path("auth/verify-email", VerifyEmailApi.as_view(), name="verify-email"),
    path("auth/verify-email/resend", VerifyEmailResendApi.as_view(), name="verify-email-resend"),
    path("auth/password/reset", PasswordResetApi.as_view(), name="password-reset"),
    path(
        "auth/password/reset/confirm",
        PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("auth/password/change", PasswordChangeApi.as_view(), name="password-change"),
    path("me", MeApi.as_view(), name="me"),
    path("me/export", MeExportApi.as_view(), name="me-export"),
]
