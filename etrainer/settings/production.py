"""Production: every secret must come from the environment; secure transport settings on."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from etrainer.logging import logging_config
from etrainer.secret_keys import example_values, require_strong_key
from etrainer.settings.base import *  # noqa: F403
from etrainer.settings.base import BASE_DIR, env
from etrainer.settings.components.logging import LOG_LEVEL

# A short, repetitive, placeholder or published example key stops the start (etrainer.secret_keys).
_EXAMPLE_VALUES = example_values(BASE_DIR)
SECRET_KEY = require_strong_key(
    "DJANGO_SECRET_KEY", env("DJANGO_SECRET_KEY", default=""), _EXAMPLE_VALUES
)
SIMPLE_JWT["SIGNING_KEY"] = (  # noqa: F405
    require_strong_key("JWT_SIGNING_KEY", env("JWT_SIGNING_KEY"), _EXAMPLE_VALUES)
    if env("JWT_SIGNING_KEY", default="")
    else SECRET_KEY
)
DEBUG = False
ALLOWED_HOSTS = [*env.list("DJANGO_ALLOWED_HOSTS"), *INTERNAL_HOSTS]  # noqa: F405
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

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

# RATELIMIT_TRUSTED_PROXIES keeps base's empty default: no X-Forwarded-For is believed unless the
# proxies in front are listed (docker-compose.yml lists its own network), else any client on a
# private address could pick its own rate-limit key.
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

# --- payments: the development checkout activates paid plans without Stripe; never here. ---
if env.bool("STRIPE_DEV_CHECKOUT", default=False):
    raise ImproperlyConfigured(
        "STRIPE_DEV_CHECKOUT is on: production settings refuse the development checkout. Unset it "
        "and set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET."
    )
STRIPE_DEV_CHECKOUT = False
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")

STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
}
