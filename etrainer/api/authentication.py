"""The project's JWT authentication: simplejwt's, with each token verified once per process.

Every token carries the user's token version (``TOKEN_VERSION_CLAIM``); a token whose version is
not the user's current one is refused here and on refresh (``accounts.tokens``). A password
change, a deactivation and logout-all bump it. simplejwt's own ``CHECK_REVOKE_TOKEN`` (a hash of
the password hash in the token) covers only the password and only its own authentication class,
not refresh or logout-all.

``MemoizedJWTAuthentication`` is the project default: it loads the fresh user row other apps'
writes may rely on. The hot endpoints use ``subscriptions.authentication.CachedJWTAuthentication``
(the user from the access cache), which builds on it.
"""

import time

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from etrainer.i18n import activate_user_language

TOKEN_VERSION_CLAIM = "tv"  # noqa: S105 (a claim name)


def token_is_current(token, token_version) -> bool:
    """A token issued before the user's last password change, deactivation or logout-all is not.
    Tokens without the claim were issued at version 0."""
    return token.get(TOKEN_VERSION_CLAIM, 0) == token_version


def revoked() -> InvalidToken:
    """The same answer as an expired token (401 ``token_not_valid``): the client logs in again."""
    return InvalidToken("Token has been revoked")


class VerifiedTokens:
    """Per-process memo of access tokens whose signature was already verified.

    Clients send the same access token for its whole lifetime, and verifying it (base64, HMAC,
    claim checks) is a sizeable part of a warm access check. The memo is keyed by the complete
    raw token, signature included, so only a byte-identical token is recognised; its expiry is
    still checked on every request. Bounded: it is emptied when full.
    """

    def __init__(self, max_size: int = 4096) -> None:
        self.max_size = max_size
        self._tokens: dict[bytes, object] = {}

    def get(self, raw_token: bytes):
        token = self._tokens.get(raw_token)
        if token is None:
            return None
        leeway = api_settings.LEEWAY
        leeway = leeway.total_seconds() if hasattr(leeway, "total_seconds") else leeway
        if token.payload.get("exp", 0) + leeway <= time.time():
            self._tokens.pop(raw_token, None)
            return None
        return token

    def add(self, raw_token: bytes, token) -> None:
        if len(self._tokens) >= self.max_size:
            self._tokens.clear()
        self._tokens[raw_token] = token


verified_tokens = VerifiedTokens()


class MemoizedJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication (the user row is loaded), verifying each token once per process.

    The project default: the rate-limit middleware has usually verified the token already.
    """

    def get_validated_token(self, raw_token):
        token = verified_tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            verified_tokens.add(raw_token, token)
        return token

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not token_is_current(validated_token, getattr(user, "token_version", 0)):
            raise revoked()
        activate_user_language(getattr(user, "language", None))
        return user


class LanguageSessionAuthentication(SessionAuthentication):
    """DRF's session authentication (the admin's browser, the browsable API), answering in the
    signed-in user's language like the JWT classes (``etrainer.i18n``)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            activate_user_language(getattr(result[0], "language", None))
        return result


class MemoizedJWTScheme(SimpleJWTScheme):
    """OpenAPI: the bearer JWT of the project default."""

    target_class = "etrainer.api.authentication.MemoizedJWTAuthentication"


class LanguageSessionScheme(SessionScheme):
    """OpenAPI: the session cookie, as for DRF's own class."""

    target_class = "etrainer.api.authentication.LanguageSessionAuthentication"
