"""JWT authentication for the hot path: the user comes from the access cache, not a query.

simplejwt's ``JWTAuthentication`` loads the user row on every request. ``CachedJWTAuthentication``
validates the token the same way, then reads the user entry (id, email, flags, role) in the same
``get_many`` as the access-summary keys the view will need, so a warm access check costs one Redis
round trip and no query. It falls back to the database on a miss and writes the entry back.

The user it returns is a real ``accounts.User`` built with ``Model.from_db`` from the cached
fields: the other fields (password, last_login, ...) are deferred, so reading one loads it and
``save()`` writes only the loaded fields, never blanks. On a warm lookup it is built lazily
(``SimpleLazyObject``, as Django's own ``request.user``), on first use: the access summary needs
only the id, which the lookup has, so the hottest request never builds a model instance. Saving
or deleting a user invalidates the entry (``subscriptions.signals``), so deactivation takes
effect on the next request; an invalidation Redis did not receive is replayed within
``ACCESS_CACHE_REPLAY_SECONDS`` (``subscriptions.cache``).

Writes never trust the cache: for any method other than GET, HEAD or OPTIONS the user is the
database row, so a deactivation or a revocation stops a write at once, whatever the cache holds.

Every token carries the user's token version (``TOKEN_VERSION_CLAIM``); a token whose version is
not the user's current one is refused here (cached entry or row) as in ``MemoizedJWTAuthentication``
and on refresh (``accounts.tokens``). A password change, a deactivation and logout-all bump it.
simplejwt's own ``CHECK_REVOKE_TOKEN`` (a hash of the password hash in the token) covers only the
password and only its own authentication class, not refresh or logout-all.

It is used by the subscriptions views (the hot endpoints); the project default is
``MemoizedJWTAuthentication``, which loads the fresh row other apps' writes may rely on.
"""

import functools
import time

from django.contrib.auth import get_user_model
from django.db import router
from django.utils.functional import SimpleLazyObject
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

USER_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "role",
    "timezone",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "token_version",
)
TOKEN_VERSION_CLAIM = "tv"  # noqa: S105 (a claim name)


def token_is_current(token, token_version) -> bool:
    """A token issued before the user's last password change, deactivation or logout-all is not.
    Tokens without the claim were issued at version 0."""
    return token.get(TOKEN_VERSION_CLAIM, 0) == token_version


def _revoked() -> InvalidToken:
    """The same answer as an expired token (401 ``token_not_valid``): the client logs in again."""
    return InvalidToken("Token has been revoked")


def user_entry(user) -> dict:
    return {name: getattr(user, name) for name in USER_FIELDS}


@functools.cache
def _cached_user_fields() -> list[str]:
    """USER_FIELDS in the model's field order (what ``from_db`` wants), computed once."""
    model = get_user_model()
    return [f.attname for f in model._meta.concrete_fields if f.attname in USER_FIELDS]


def user_from_entry(entry: dict):
    """A real user from the cached fields; the other fields are deferred."""
    model = get_user_model()
    names = _cached_user_fields()
    return model.from_db(router.db_for_read(model), names, [entry[name] for name in names])


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
            raise _revoked()
        return user


class CachedJWTAuthentication(MemoizedJWTAuthentication):
    """Stores the cache ``Lookup`` on the request for ``access_summary_for_request``.

    A view may name extra keys for the same round trip with ``access_prefetch(kwargs)``, which
    returns the course id to read along (or None).
    """

    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        token = self.get_validated_token(raw_token)
        user_id = token.get(api_settings.USER_ID_CLAIM)
        if user_id is None:
            raise InvalidToken("Token contained no recognizable user identification")
        if request.method not in SAFE_METHODS:
            return self.get_user(token), token
        lookup = self._fetch(request, str(user_id))
        user, is_active, token_version = self._user(lookup)
        if not is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if not token_is_current(token, token_version):
            raise _revoked()
        return user, token

    def _fetch(self, request, user_id: str):
        """The rate limiter's round trip may have brought the keys already (a read-along)."""
        from subscriptions import cache as access_cache
        from subscriptions.selectors import AUTH_FAMILIES, LOOKUP_ATTR, read_along_lookup

        context = getattr(request, "parser_context", None) or {}
        view = context.get("view")
        prefetch = getattr(view, "access_prefetch", None)
        course_id = prefetch(context.get("kwargs") or {}) if prefetch else None
        lookup = read_along_lookup(request, user_id, course_id)
        if lookup is None:
            lookup = access_cache.fetch(user_id, AUTH_FAMILIES, course_id=course_id)
        setattr(getattr(request, "_request", request), LOOKUP_ATTR, lookup)
        return lookup

    def _user(self, lookup):
        """(user, is_active, token_version): a lazy user from a cached entry, else the row, written
        back. An entry written before entries had a token version is a miss."""
        from subscriptions.cache import MISS

        entry = lookup.get("user")
        if entry is not MISS and "token_version" in entry:
            user = SimpleLazyObject(lambda: user_from_entry(entry))
            return user, entry["is_active"], entry["token_version"]
        user = self._load_user(lookup)
        lookup.store("user", user_entry(user))
        return user, user.is_active, getattr(user, "token_version", 0)

    def _load_user(self, lookup):
        """On a cold lookup, the token account rides along in the same query (LEFT JOIN)."""
        from subscriptions.cache import MISS

        queryset = get_user_model().objects.all()
        join_account = lookup.get("ai") is MISS
        if join_account:
            queryset = queryset.select_related("ai_token_account")
        try:
            user = queryset.get(**{api_settings.USER_ID_FIELD: lookup.user_id})
        except (get_user_model().DoesNotExist, ValueError, TypeError):
            raise AuthenticationFailed("User not found", code="user_not_found") from None
        if join_account:
            lookup.preloaded["ai"] = getattr(user, "ai_token_account", None)
        return user


class CachedJWTScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer JWT as simplejwt's class. drf-spectacular wants a name per class;
    ``etrainer.api.schema.merge_identical_security_schemes`` then documents one scheme."""

    target_class = "etrainer.api.authentication.CachedJWTAuthentication"
    name = "jwtAuthCached"


class MemoizedJWTScheme(SimpleJWTScheme):
    target_class = "etrainer.api.authentication.MemoizedJWTAuthentication"
