"""Writes of the accounts app, one module per flow, re-exported here."""

from accounts.services.erasure import user_erase
from accounts.services.passwords import (
    password_change,
    password_reset_confirm,
    password_reset_request,
)
from accounts.services.sessions import (
    auth_logout,
    refresh_token_revoke,
    revoked_tokens_purge,
    user_create,
    user_deactivate,
    user_sessions_end,
    user_update_profile,
)
from accounts.services.signup import email_verify, user_register, verification_email_resend

__all__ = [
    "auth_logout",
    "email_verify",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "refresh_token_revoke",
    "revoked_tokens_purge",
    "user_create",
    "user_deactivate",
    "user_erase",
    "user_register",
    "user_sessions_end",
    "user_update_profile",
    "verification_email_resend",
]
