"""Production: every secret must come from the environment; secure transport settings on."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from etrainer.settings.base import *  # noqa: F403
from etrainer.settings.base import BASE_DIR, env, logging_config

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production settings refuse to start without a secret key "
        "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
SIMPLE_JWT["SIGNING_KEY"] = env("JWT_SIGNING_KEY", default="") or SECRET_KEY  # noqa: F405
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)  # noqa: F405

# TLS terminates at nginx, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Rate limits: the proxies in front (nginx, the container network) are on private addresses, and
# only they may name the client in X-Forwarded-For. Without this every client would share nginx's
# address, and so one limit.
RATELIMIT_TRUSTED_PROXIES = env.list(
    "RATELIMIT_TRUSTED_PROXIES",
    default=["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"],
)
CORS_ALLOW_ALL_ORIGINS = False

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Uploads must land where this deployment serves them: Cloudinary, or a local directory named on
# purpose (docker compose: the `media` volume, which nginx serves at /media/). The default under
# the code would be per container and lost on redeploy; <BASE_DIR>/media is the media app itself.
if MEDIA_BACKEND == "local":  # noqa: F405
    if not env("DJANGO_MEDIA_ROOT", default=""):
        raise ImproperlyConfigured(
            "MEDIA_BACKEND is local but DJANGO_MEDIA_ROOT is not set. Production stores uploads in "
            "Cloudinary (CLOUDINARY_URL) or in a directory served at /media/ (docker compose: the "
            "media volume at /app/var/media)."
        )
    if Path(str(MEDIA_ROOT)).resolve() == (BASE_DIR / "media").resolve():  # noqa: F405
        raise ImproperlyConfigured(
            f"DJANGO_MEDIA_ROOT={MEDIA_ROOT} is the media app's code; use /app/var/media."  # noqa: F405
        )

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
}
