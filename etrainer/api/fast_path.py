"""A lean GET for the hottest read endpoints (the access checks).

DRF's dispatch wraps the request, negotiates content, runs version/permission/throttle hooks and
renders through its JSON renderer: about 160 us per request on the reference machine
(../shared/PERFORMANCE.md), as much as the whole Redis round trip. For a GET that carries a bearer
token, ``BearerGetFastPath`` instead authenticates with the view's first authentication class,
calls the view's ``get_payload`` (which its ``get`` wraps in a DRF ``Response``) and renders the
data with Django's ``JsonResponse``. Errors go through
the project's exception handler, so the envelope and headers are the same. Every other request
(no bearer token, session users, other methods) takes DRF's full dispatch, and the OpenAPI schema
is still generated from the DRF view.
"""

from django.http import JsonResponse
from rest_framework import exceptions

from etrainer.api.exception_handler import api_exception_handler

_COMPACT = {"separators": (",", ":")}


class BearerGetFastPath:
    """Mixin for an APIView whose ``get`` returns ``Response(self.get_payload(request, ...))``."""

    def get_payload(self, request, *args, **kwargs):
        raise NotImplementedError

    @classmethod
    def _fast_path_authenticator(cls):
        """One instance per view class: authentication classes keep no per-request state."""
        authenticator = cls.__dict__.get("_authenticator")
        if authenticator is None:
            authenticator = cls.authentication_classes[0]()
            cls._authenticator = authenticator
        return authenticator

    def dispatch(self, request, *args, **kwargs):
        if request.method != "GET" or not request.META.get("HTTP_AUTHORIZATION", "").startswith(
            "Bearer "
        ):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.request = args, kwargs, request
        request.parser_context = {"view": self, "args": args, "kwargs": kwargs}
        authenticator = self._fast_path_authenticator()
        try:
            user_and_token = authenticator.authenticate(request)
            if user_and_token is None:
                raise exceptions.NotAuthenticated()
            request.user, request.auth = user_and_token
            return JsonResponse(
                self.get_payload(request, *args, **kwargs), safe=False, json_dumps_params=_COMPACT
            )
        except Exception as exc:
            if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
                exc.auth_header = authenticator.authenticate_header(request)
            response = api_exception_handler(exc, {"view": self, "request": request})
            if response is None:
                raise
        return _as_json(response)


def _as_json(response) -> JsonResponse:
    json_response = JsonResponse(
        response.data, status=response.status_code, safe=False, json_dumps_params=_COMPACT
    )
    for name, value in response.headers.items():
        if name.lower() != "content-type":
            json_response[name] = value
    return json_response
