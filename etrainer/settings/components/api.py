"""Django REST framework, JWT (simplejwt) and the OpenAPI schema (drf-spectacular)."""

from datetime import timedelta

from etrainer.env import env
from etrainer.settings.components.security import SECRET_KEY

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "etrainer.api.authentication.MemoizedJWTAuthentication",
        "etrainer.api.authentication.LanguageSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(
            ["rest_framework.renderers.BrowsableAPIRenderer"]
            if env.bool("DJANGO_BROWSABLE_API", default=False)
            else []
        ),
    ],
    "DEFAULT_PARSER_CLASSES": [
        "etrainer.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "etrainer.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "etrainer.api.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "etrainer.api.schema.ProjectAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ETrainer API",
    "DESCRIPTION": (
        "Subscriptions, course access, AI tokens, exams, streaks and notifications. Messages are "
        "in Vietnamese or English: the signed-in user's language, else Accept-Language, else the "
        "site default (Content-Language says which)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "etrainer.api.schema.merge_identical_security_schemes",
    ],
    # Swagger UI from the installed drf-spectacular-sidecar: /api/docs works offline, pinned.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
