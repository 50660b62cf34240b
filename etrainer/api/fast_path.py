"""A lean GET for the hottest read endpoints (the access checks), which fails closed.

DRF's dispatch wraps the request, negotiates content, runs version/permission/throttle hooks and
renders through its JSON renderer: about 160 us per request on the reference machine
(../shared/PERFORMANCE.md), as much as the whole Redis round trip. For a GET that carries a bearer
token, ``BearerGetFastPath`` instead authenticates with the view's first authentication class,
runs the view's permission checks, calls the view's ``get_payload`` (which its ``get`` wraps in a
DRF ``Response``) and renders the data with Django's ``JsonResponse``. Errors go through the
project's exception handler, so the envelope and headers are the same. Every other request (no
bearer token, session users, other methods) takes DRF's full dispatch, and the OpenAPI schema is
still generated from the DRF view.

What the fast path cannot honour is refused when the view class is created (ImproperlyConfigured),
never silently skipped: throttles, versioning, and permissions other than the ones below.
``AllowAny`` and ``IsAuthenticated`` (and ``IsAuthenticatedOrReadOnly``, for a GET) hold once the
bearer token authenticated, so they are not evaluated again (that would build the lazy cached
user); any other permission must read only ``request.user``, ``request.auth`` and the method, and
say so with ``fast_path_safe = True`` (DRF's ``IsAdminUser`` is taken as such).
"""

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, permissions

from etrainer.api.exception_handler import api_exception_handler

COMPACT = {"separators": (",", ":")}
SATISFIED_BY_AUTHENTICATION = (
    permissions.AllowAny,
    permissions.IsAuthenticated,
    permissions.IsAuthenticatedOrReadOnly,
)
EVALUATED = (permissions.IsAdminUser,)


def fast_path_refusal(view_class) -> str | None:
    """Why the fast path cannot serve this view class as DRF would, or None."""
    if view_class.throttle_classes:
        return "it has throttle classes, which the fast path does not run"
    if view_class.versioning_class is not None:
        return "it has a versioning class, which the fast path does not run"
    for permission in view_class.permission_classes:
        if not isinstance(permission, type):
            return f"its permission {permission!r} is composed; name one class per check"
        if not issubclass(permission, SATISFIED_BY_AUTHENTICATION + EVALUATED) and not getattr(
            permission, "fast_path_safe", False
        ):
            return f"its permission {permission.__name__} is not marked fast_path_safe"
    return None


def is_bearer(request) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")


class BearerGetFastPath:
    """Mixin for an APIView whose ``get`` returns ``Response(self.get_payload(request, ...))``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.fast_path_authenticator = None
        if not hasattr(cls, "permission_classes"):
            return  # a mixin of its own (not yet an APIView): checked in its views
        reason = fast_path_refusal(cls)
        if reason is not None:
            raise ImproperlyConfigured(f"{cls.__qualname__} cannot use BearerGetFastPath: {reason}")
        cls.fast_path_permissions = tuple(
            permission
            for permission in cls.permission_classes
            if not issubclass(permission, SATISFIED_BY_AUTHENTICATION)
        )
        cls.fast_path_authenticator = None

    def get_payload(self, request, *args, **kwargs):
        raise NotImplementedError

    @classmethod
    def authenticator(cls):
        """One instance per view class: authentication classes keep no per-request state."""
        if cls.fast_path_authenticator is None:
            cls.fast_path_authenticator = cls.authentication_classes[0]()
        return cls.fast_path_authenticator

    def dispatch(self, request, *args, **kwargs):
        if request.method != "GET" or not is_bearer(request):
            return super().dispatch(request, *args, **kwargs)
        refused = self.fast_authenticate(request, args, kwargs)
        if refused is not None:
            return refused
        try:
            return self.fast_response(request, *args, **kwargs)
        except Exception as exc:
            return self.error_response(exc, request)

    def fast_response(self, request, *args, **kwargs) -> HttpResponse:
        """The payload as JSON; a view that keeps its body rendered returns that instead."""
        return JsonResponse(
            self.get_payload(request, *args, **kwargs), safe=False, json_dumps_params=COMPACT
        )

    def fast_authenticate(self, request, args, kwargs) -> HttpResponse | None:
        """Authenticate and check permissions as DRF's ``initial`` would, without its dispatch;
        the error response (the project's envelope), or None when the request may go on."""
        self.args, self.kwargs, self.request = args, kwargs, request
        request.parser_context = {"view": self, "args": args, "kwargs": kwargs}
        try:
            user_and_token = self.authenticator().authenticate(request)
            if user_and_token is None:
                raise exceptions.NotAuthenticated()
            request.user, request.auth = user_and_token
            self.check_fast_path_permissions(request)
        except Exception as exc:
            return self.error_response(exc, request)
        return None

    def error_response(self, exc: Exception, request) -> HttpResponse:
        """What DRF's ``handle_exception`` answers, rendered as JSON; re-raised when the project's
        handler does not answer (a server error)."""
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            exc.auth_header = self.authenticator().authenticate_header(request)
        response = api_exception_handler(exc, {"view": self, "request": request})
        if response is None:
            raise exc
        return as_json(response)

    def check_fast_path_permissions(self, request: HttpRequest) -> None:
        """DRF's ``check_permissions`` for the permissions authentication does not settle; the
        user is authenticated here, so a refusal is a 403."""
        for permission_class in self.fast_path_permissions:
            permission = permission_class()
            if not permission.has_permission(request, self):
                raise exceptions.PermissionDenied(
                    detail=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )


def as_json(response) -> JsonResponse:
    json_response = JsonResponse(
        response.data, status=response.status_code, safe=False, json_dumps_params=COMPACT
    )
    for name, value in response.headers.items():
        if name.lower() != "content-type":
            json_response[name] = value
    return json_response
