"""JWT authentication for the hot path: the user comes from the access cache, not a query.

simplejwt's ``JWTAuthentication`` loads the user row on every request. ``CachedJWTAuthentication``
validates the token the same way (``etrainer.api.authentication``: verified once per process),
then reads the user entry (id, email, flags, role) in the same MGET as the access-summary keys the
view will need, so a warm access check costs one Redis round trip and no query. It falls back to
the database on a miss and writes the entry back.

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
A token whose version is not the user's current one is refused (cached entry or row).

The lookup it used waits in the request's ``AccessContext`` (``subscriptions.request_context``)
for the views; ``access_read_along`` lets the rate limiter bring the same keys in its round trip.
"""

import functools

from django.contrib.auth import get_user_model
from django.db import router
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from etrainer.api.authentication import MemoizedJWTAuthentication, revoked, token_is_current
from etrainer.i18n import activate_user_language
from etrainer.ratelimit import ReadAlong
from subscriptions import cache as access_cache
from subscriptions.cache import MISS, SUMMARY_FAMILIES, PlannedRead
from subscriptions.request_context import access_context, read_along_lookup

USER_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "role",
    "timezone",
    "language",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "token_version",
)
AUTH_FAMILIES = ("user", *SUMMARY_FAMILIES)  # what the hot-path authentication reads


def user_entry(user) -> dict:
    return {name: getattr(user, name) for name in USER_FIELDS}


@functools.cache
def cached_user_fields() -> list[str]:
    """USER_FIELDS in the model's field order (what ``from_db`` wants), computed once."""
    model = get_user_model()
    return [f.attname for f in model._meta.concrete_fields if f.attname in USER_FIELDS]


def user_from_entry(entry: dict):
    """A real user from the cached fields; the other fields are deferred."""
    model = get_user_model()
    names = cached_user_fields()
    return model.from_db(router.db_for_read(model), names, [entry[name] for name in names])


class CachedJWTAuthentication(MemoizedJWTAuthentication):
    """Leaves the cache ``Lookup`` in the request's ``AccessContext`` for the views.

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
        lookup = self.fetch(request, str(user_id))
        user, is_active, token_version = self.cached_user(lookup)
        if not is_active:
            raise AuthenticationFailed(gettext("User is inactive"), code="user_inactive")
        if not token_is_current(token, token_version):
            raise revoked()
        activate_user_language(lookup.get("user").get("language"))
        return user, token

    def fetch(self, request, user_id: str):
        """The rate limiter's round trip may have brought the keys already (a read-along)."""
        context = getattr(request, "parser_context", None) or {}
        planned = planned_read(
            type(context.get("view")), request, user_id, context.get("kwargs") or {}
        )
        lookup = read_along_lookup(request, planned)
        if lookup is None:
            lookup = access_cache.lookup_from(planned, access_cache.read_planned(planned))
        access_context(request).lookup = lookup
        return lookup

    def cached_user(self, lookup):
        """(user, is_active, token_version): a lazy user from a cached entry, else the row, written
        back. An entry written before entries had a token version or a language is a miss."""
        entry = lookup.get("user")
        if entry is not MISS and "token_version" in entry and "language" in entry:
            user = SimpleLazyObject(lambda: user_from_entry(entry))
            return user, entry["is_active"], entry["token_version"]
        user = self.load_user(lookup)
        lookup.store("user", user_entry(user))
        return user, user.is_active, getattr(user, "token_version", 0)

    def load_user(self, lookup):
        """On a cold lookup, the token account rides along in the same query (LEFT JOIN)."""
        queryset = get_user_model().objects.all()
        join_account = "ai" in lookup.idents and lookup.get("ai") is MISS
        if join_account:
            queryset = queryset.select_related("ai_token_account")
        try:
            user = queryset.get(**{api_settings.USER_ID_FIELD: lookup.user_id})
        except (get_user_model().DoesNotExist, ValueError, TypeError):
            raise AuthenticationFailed(gettext("User not found"), code="user_not_found") from None
        if join_account:
            lookup.preloaded["ai"] = getattr(user, "ai_token_account", None)
        return user


def planned_read(view_class, request, user_id: str, kwargs: dict) -> PlannedRead:
    """What the authentication reads for this view: ``access_families`` (default: the user and
    the access summary's), the course of ``access_prefetch(kwargs)`` and ``access_extra(request)``
    (a public list's page), all in one MGET."""
    prefetch = getattr(view_class, "access_prefetch", None)
    course_id = prefetch(kwargs) if prefetch else None
    extra_for = getattr(view_class, "access_extra", None)
    return access_cache.plan_read(
        user_id,
        getattr(view_class, "access_families", AUTH_FAMILIES),
        course_id=course_id,
        extra=extra_for(request) if extra_for else None,
    )


def access_read_along(request, user_id: str | None) -> ReadAlong | None:
    """The rate limiter's read-along (``etrainer.ratelimit``) for the views that authenticate
    with ``CachedJWTAuthentication`` (the access checks, the token balance, the public lists).

    The limiter counts in ``process_view``, so the resolved view and its URL kwargs are known; the
    keys the authentication will read follow from them and the verified user, so they travel in
    the limiter's round trip and wait in the request's context. Writes read the user from the
    database, so they need none. An anonymous call (``user_id`` None) reads along only for a
    public list that takes anonymous calls (``anonymous_read``).
    """
    if request.method not in SAFE_METHODS:
        return None
    match = request.resolver_match
    view_class = getattr(match.func, "view_class", None)
    authentication = getattr(view_class, "authentication_classes", None)
    if not authentication or not issubclass(authentication[0], CachedJWTAuthentication):
        return None
    if user_id is None:
        anonymous_read = getattr(view_class, "anonymous_read", None)
        planned = anonymous_read(request) if anonymous_read else None
        if planned is None:
            return None
    else:
        planned = planned_read(view_class, request, user_id, match.kwargs)
    read = access_cache.redis_read(planned)
    if read is None:
        return None
    keys, to_lookup = read

    def accept(values: list) -> None:
        access_context(request).read_along = to_lookup(values)

    return ReadAlong(keys=keys, accept=accept)


class CachedJWTScheme(SimpleJWTScheme):
    """OpenAPI: the same bearer JWT as simplejwt's class. drf-spectacular wants a name per class;
    ``etrainer.api.schema.merge_identical_security_schemes`` then documents one scheme."""

    target_class = "subscriptions.authentication.CachedJWTAuthentication"
    name = "jwtAuthCached"
