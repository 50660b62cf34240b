from django.urls import path

from accounts.apis import LogoutAllApi, LogoutApi, MeApi, TokenObtainApi, TokenRefreshApi

urlpatterns = [
    path("auth/token", TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", LogoutApi.as_view(), name="logout"),
    path("auth/logout-all", LogoutAllApi.as_view(), name="logout-all"),
    path("me", MeApi.as_view(), name="me"),
]
