"""Django-level error views: JSON envelopes for API clients, Django's HTML pages for the rest."""

from django.http import JsonResponse
from django.views import defaults

from etrainer.api.errors import ErrorCode, error_body


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
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


def server_error(request, template_name="500.html"):
    if wants_json(request):
        return _json_error(ErrorCode.SERVER_ERROR, "Internal server error.", 500)
    return defaults.server_error(request, template_name)


def csrf_failure(request, reason=""):
    if wants_json(request):
        return _json_error(ErrorCode.PERMISSION_DENIED, "CSRF verification failed.", 403)
    from django.views.csrf import csrf_failure as default_csrf_failure

    return default_csrf_failure(request, reason)
