"""Request-scoped middleware."""

import re
import uuid

from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.middleware import common as common_middleware

from etrainer.logging import request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tag the request, its log lines and its response with one id.

    An id sent by the proxy in front (nginx's $request_id) is kept when it looks sane, so a request
    can be followed from the proxy log to ours; anything else gets a fresh id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def is_token_api_request(request) -> bool:
    """An API call that carries a bearer token and no cookie at all.

    Sessions, CSRF and flash messages are browser machinery: with no cookie there is no session to
    load and nothing a cross-site request could ride on (a browser never adds a bearer token on its
    own), so the middleware below has no work to do for such a request.
    """
    meta = request.META
    return (
        not meta.get("HTTP_COOKIE")
        and meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
        and request.path_info.startswith("/api/")
    )


class SkippedForTokenApiRequests:
    """Mixin for Django's browser-session middleware: token API requests pass straight through.

    Tens of microseconds per request for the session store and the messages storage, neither of
    which a bearer-token API call uses. Requests with a cookie (the admin, the browsable API) get
    the stock behaviour. CSRF keeps Django's own middleware (cheap for DRF's csrf-exempt views,
    and the deploy check looks for it by name).
    """

    def __call__(self, request):
        if is_token_api_request(request):
            self.prepare_token_api_request(request)
            return self.get_response(request)
        return super().__call__(request)

    def prepare_token_api_request(self, request) -> None:
        """What a skipped middleware still owes the request; nothing by default."""


class SessionMiddleware(SkippedForTokenApiRequests, sessions_middleware.SessionMiddleware):
    pass


# Load balancers, orchestrators and Prometheus call these by address (http://10.0.3.7:8000/health).
PROBE_PATHS = frozenset({"/health", "/metrics"})


class CommonMiddleware(common_middleware.CommonMiddleware):
    """Django's CommonMiddleware, except that a probe is answered whatever its Host header.

    The stock ``process_request`` validates the host against ``ALLOWED_HOSTS`` on every request, so
    a probe by address got a 400 and the replica was marked down. Host validation protects URLs
    built from the Host header (redirects, e-mailed links); the probe views build none, so they
    skip this step (a www redirect or user-agent block has no meaning for them either). Every other
    path keeps the stock behaviour, and Django still refuses the host wherever it is read.
    """

    def process_request(self, request):
        if request.path_info in PROBE_PATHS:
            return None
        return super().process_request(request)


class AuthenticationMiddleware(
    SkippedForTokenApiRequests, auth_middleware.AuthenticationMiddleware
):
    def prepare_token_api_request(self, request) -> None:
        """A token API request starts anonymous: its bearer token is DRF's to verify, and it has
        no session that could name a user (the stock lazy user would read the session)."""
        request.user = AnonymousUser()


class MessageMiddleware(SkippedForTokenApiRequests, messages_middleware.MessageMiddleware):
    pass
