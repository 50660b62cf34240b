"""Django-level error views: the JSON envelope for every client that did not ask for a web page.

API clients, probes and load balancers get ``{"error": …}`` wherever they land (``/api/…`` always,
any other path unless the request asks for ``text/html``); a browser on the admin keeps Django's
HTML pages.
"""

from django.http import JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as default_csrf_failure
from django.views.decorators.csrf import csrf_exempt

from etrainer.api.errors import ErrorCode, error_body


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith("/api/")
        or "application/json" in accept
        or "text/html" not in accept
    )


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def bad_request(request, exception, template_name="400.html"):
    if wants_json(request):
        return _json_error(ErrorCode.BAD_REQUEST, "Bad request.", 400)
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name="403.html"):
    if wants_json(request):
        return _json_error(ErrorCode.PERMISSION_DENIED, "Permission denied.", 403)
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name="404.html"):
    if wants_json(request):
        return _json_error(ErrorCode.NOT_FOUND, "Not found.", 404)
    return defaults.page_not_found(request, exception, template_name)


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """The last ``api/`` route: an unknown API path answers the envelope even with DEBUG on.

    With DEBUG on Django answers an unresolved path with its HTML debug page and never calls
    ``handler404``; a route that matches what nothing else did is the public way around that.
    Exempt from CSRF like every DRF view: it changes nothing, and a POST or DELETE to an unknown
    path is a 404, not the CSRF failure's 403 (which is what schemathesis saw for upload ids that
    the route's pattern refuses).
    """
    return _json_error(ErrorCode.NOT_FOUND, "Not found.", 404)


def server_error(request, template_name="500.html"):
    if wants_json(request):
        return _json_error(ErrorCode.SERVER_ERROR, "Internal server error.", 500)
    return defaults.server_error(request, template_name)


def csrf_failure(request, reason=""):
    if wants_json(request):
        return _json_error(ErrorCode.PERMISSION_DENIED, "CSRF verification failed.", 403)
    return default_csrf_failure(request, reason)
