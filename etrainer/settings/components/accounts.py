"""Sign-up, email verification and password reset (accounts/services/)."""

from etrainer.env import env

# Links in account emails point at the frontend: FRONTEND_URL + path + ?key=… / ?uid=…&token=….
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
FRONTEND_VERIFY_EMAIL_PATH = env("FRONTEND_VERIFY_EMAIL_PATH", default="/verify-email")
FRONTEND_PASSWORD_RESET_PATH = env("FRONTEND_PASSWORD_RESET_PATH", default="/reset-password")
DEFAULT_USER_LANGUAGE = env("DEFAULT_USER_LANGUAGE", default="vi")
# Seconds a password reset link (Django's setting) and an email verification key stay valid.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 3600)
