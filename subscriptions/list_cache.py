"""The public lists (/api/plans, /api/courses) served whole from the access cache.

A page of a public list is the same for every caller, changes rarely and is read on every app
start, so the rendered response (status, headers, body: whatever the view's serializer produced)
is kept under the family ``plans`` or ``courses`` of ``subscriptions.cache``, keyed by the active
language and the absolute URL (the pagination links are absolute). Invalidation is the access
cache's own: any change bumps the family's version token (``invalidate_plan_list``,
``invalidate_course_list``), an invalidation Redis did not take is recorded and replayed, and a
hit is trusted only while the replay marker is fresh. Redis down reads as a miss: the view
answers from the database.

Only what is provably the same for every caller is served from the cache: a GET without a cookie,
with no query parameters but ``page`` and ``page_size`` (digits), and an ``Accept`` the JSON
renderer answers as it always does. A bearer token is still verified (its user entry travels in
the same MGET as the page: one round trip); an anonymous call reads the page alone, or in the
rate limiter's round trip (``subscriptions.authentication.access_read_along``). Everything else,
bad parameters included, takes DRF's dispatch and gets its answer, errors in the JSON envelope.
"""

import hashlib

from django.http import HttpResponse
from django.utils import translation
from rest_framework.permissions import AllowAny

from etrainer.api.fast_path import BearerGetFastPath, is_bearer
from subscriptions import cache as access_cache
from subscriptions.cache import MISS, PlannedRead
from subscriptions.request_context import access_context

LIST_PARAMS = frozenset({"page", "page_size"})
PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})
MAX_PARAM_LENGTH = 6


def page_ident(request) -> str | None:
    """The cache ident of this request's page, or None when it must not be served from the cache.

    Asked up to three times per request (the limiter's read-along, the authentication's MGET, the
    view), so it is worked out once per request and active language."""
    language = translation.get_language()
    idents = access_context(request).page_idents
    if language not in idents:
        idents[language] = compute_page_ident(request, language)
    return idents[language]


def compute_page_ident(request, language: str) -> str | None:
    meta = request.META
    if request.method != "GET" or meta.get("HTTP_COOKIE"):
        return None
    if meta.get("HTTP_ACCEPT", "").strip() not in PLAIN_ACCEPT:
        return None
    for name, values in request.GET.lists():
        if name not in LIST_PARAMS or len(values) != 1:
            return None
        value = values[0]
        if not value.isdigit() or len(value) > MAX_PARAM_LENGTH:
            return None
    raw = f"{language}|{request.build_absolute_uri()}"
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def list_extra(view_class, request) -> dict[str, str] | None:
    """The page entry to read in the authentication's (or the limiter's) round trip."""
    family = getattr(view_class, "public_list_family", None)
    if family is None:
        return None
    ident = page_ident(request)
    return {family: ident} if ident is not None else None


def response_from(entry) -> HttpResponse:
    status, headers, body = entry
    response = HttpResponse(body, status=status)
    for name, value in headers:
        response[name] = value
    return response


class CachedPublicList(BearerGetFastPath):
    """Mixin for a public list APIView: ``public_list_family`` names its cache family."""

    public_list_family = ""
    access_families: tuple[str, ...] = ("user",)  # a bearer call reads only its user entry

    def dispatch(self, request, *args, **kwargs):
        extra = list_extra(type(self), request)
        if extra is None:
            return super(BearerGetFastPath, self).dispatch(request, *args, **kwargs)
        page = None
        if is_bearer(request):
            refused = self.fast_authenticate(request, args, kwargs)
            if refused is not None:
                return refused
            lookup = access_context(request).lookup
            page = self.page_in_user_language(request, lookup, extra)
        elif "HTTP_AUTHORIZATION" in request.META or not self.anonymous_allowed():
            return super(BearerGetFastPath, self).dispatch(request, *args, **kwargs)
        else:
            # What DRF's SessionAuthentication does for an anonymous call: the session is looked
            # at (so the response varies on Cookie, as the uncached one does).
            _ = request.user.is_active
            lookup = self.anonymous_lookup(request, extra)
        page = page or lookup
        family = self.public_list_family
        entry = page.get(family) if page is not None else MISS
        if entry is not MISS:
            return response_from(entry)
        if lookup is not None:
            access_context(request).read_along = lookup  # DRF's authentication reuses it
        response = super(BearerGetFastPath, self).dispatch(request, *args, **kwargs)
        if response.status_code == 200 and page is not None and family in page.idents:
            response.render()
            page.store(family, (response.status_code, list(response.items()), response.content))
        return response

    def page_in_user_language(self, request, lookup, extra: dict[str, str]):
        """The page read along with the user entry was keyed by the request's Accept-Language;
        authentication then activated the user's stored language. When the two differ, the page
        of the user's language is read on its own (a second round trip), so that a page is
        always stored and served under the language it was rendered in."""
        family = self.public_list_family
        ident = page_ident(request)
        if lookup is None or ident is None or ident == extra.get(family):
            return None
        return access_cache.fetch("", (), extra={family: ident})

    @classmethod
    def access_extra(cls, request) -> dict[str, str] | None:
        """For ``CachedJWTAuthentication``: the page rides in the user's MGET."""
        return list_extra(cls, request)

    @classmethod
    def anonymous_read(cls, request) -> PlannedRead | None:
        """For the rate limiter's read-along: an anonymous call's page."""
        if "HTTP_AUTHORIZATION" in request.META or not cls.anonymous_allowed():
            return None
        extra = list_extra(cls, request)
        return access_cache.plan_read("", (), extra=extra) if extra is not None else None

    @classmethod
    def anonymous_allowed(cls) -> bool:
        return all(issubclass(permission, AllowAny) for permission in cls.permission_classes)

    @staticmethod
    def anonymous_lookup(request, extra: dict[str, str]):
        """The page as the rate limiter's round trip brought it, else one MGET of its own."""
        context = access_context(request)
        read_along = context.read_along
        if read_along is not None and read_along.idents == extra:
            return read_along
        return access_cache.fetch("", (), extra=extra)


def invalidate_plan_list() -> None:
    """Every cached page of /api/plans, in every language: call after any change to what the plan
    list shows (a Plan, its prices), also from bulk updates that send no signals."""
    access_cache.invalidate_family("plans")


def invalidate_course_list() -> None:
    """Every cached page of /api/courses: after any change to what the course list shows."""
    access_cache.invalidate_family("courses")
