"""The OpenAPI schema's project rules: error responses in the envelope, pagination, descriptions.

drf-spectacular documents what a view declares. Much of what a client can get back is decided
elsewhere — the exception handler's envelope, the rate limiter's 429, the parsers' 415, the
paginator's query parameters — so ``ProjectAutoSchema`` adds those to every operation they apply
to, from the view's own configuration (permissions, path parameters, request body, paginator).
A view still declares what only it knows, e.g. ``409: error_response("…")`` for a conflict.
"""

import inspect

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import permissions, serializers
from rest_framework.views import APIView


@extend_schema_serializer(component_name="ErrorEnvelope")
class ErrorEnvelopeSerializer(serializers.Serializer):
    """Every error answer: ``{"error": {"code", "message", "details"}}``."""

    class ErrorSerializer(serializers.Serializer):
        code = serializers.CharField(help_text="stable, machine-readable (e.g. validation_error)")
        message = serializers.CharField(help_text="for people; may change")
        details = serializers.DictField(help_text="e.g. the fields that failed validation")

    error = ErrorSerializer()


def error_response(description: str) -> OpenApiResponse:
    """An error answer a view declares itself (a 409 conflict, a 503 of its dependency)."""
    return OpenApiResponse(response=ErrorEnvelopeSerializer, description=description)


ERRORS = {
    "400": "The request is invalid (details name the fields).",
    "401": "No valid credentials: a missing, expired or revoked access token.",
    "403": "Authenticated, but not allowed (staff only).",
    "404": "No such object, or not yours.",
    "413": "The request body is larger than allowed.",
    "415": "The request body's content type is not accepted.",
    "429": "Rate limited: retry after the number of seconds in the Retry-After header.",
}
NO_SUCH_PAGE = "No such page: a page number past the end, or an invalid cursor."
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"},
}
NOT_AUTHORIZATION = (permissions.AllowAny, permissions.IsAuthenticated)


class ProjectAutoSchema(AutoSchema):
    def get_description(self) -> str:
        """The method's docstring, else the nearest view class's; never a mixin's (the fast path's
        "Mixin for an APIView…" is for developers) nor one of DRF's or simplejwt's own classes."""
        method = getattr(self.view, self.method.lower(), None)
        if method is not None and method.__doc__:
            return inspect.cleandoc(method.__doc__)
        for klass in type(self.view).__mro__:
            if klass.__module__.startswith(("rest_framework", "drf_spectacular")):
                break
            if issubclass(klass, APIView) and klass.__dict__.get("__doc__"):
                return inspect.cleandoc(klass.__doc__)
        return ""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        paginated = self._add_pagination_parameters(operation)
        envelope = {"schema": self.resolve_serializer(ErrorEnvelopeSerializer, "response").ref}
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(status, {"description": ERRORS[status]})
        if paginated:
            responses.setdefault("404", {"description": NO_SUCH_PAGE})
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                response.setdefault("content", {"application/json": envelope})
        if "429" in responses:
            responses["429"].setdefault("headers", RETRY_AFTER)
        return operation

    def _error_statuses(self, operation: dict) -> list[str]:
        statuses = ["429"]  # every API path is rate limited (etrainer.ratelimit)
        paging = {"page", "page_size", "cursor"}
        parameters = operation.get("parameters", [])
        has_query = any(p["in"] == "query" and p["name"] not in paging for p in parameters)
        if "requestBody" in operation:
            statuses += ["400", "413", "415"]
        elif has_query:
            statuses.append("400")
        if {} not in operation.get("security", [{}]):
            statuses.append("401")
        if any(not isinstance(p, NOT_AUTHORIZATION) for p in self.view.get_permissions()):
            statuses.append("403")
        if any(p["in"] == "path" for p in parameters):
            statuses.append("404")
        return statuses

    def _add_pagination_parameters(self, operation: dict) -> bool:
        """List views that paginate by hand name their paginator in ``pagination_class``."""
        pagination_class = getattr(self.view, "pagination_class", None)
        if self.method != "GET" or pagination_class is None:
            return False
        parameters = operation.setdefault("parameters", [])
        known = {p["name"] for p in parameters}
        for parameter in pagination_class().get_schema_operation_parameters(self.view):
            if parameter["name"] not in known:
                parameters.append(parameter)
        return True


def merge_identical_security_schemes(result, generator, request, public):
    """Postprocessing hook: one scheme per distinct definition (the first name wins), so the two
    JWT authentication classes show as one bearer scheme and Swagger UI asks for one token."""
    schemes = result.get("components", {}).get("securitySchemes", {})
    canonical: dict[str, str] = {}
    for name in sorted(schemes, key=len):
        first = next((n for n in canonical.values() if schemes[n] == schemes[name]), name)
        canonical[name] = first
    for operation in _operations(result):
        if "security" in operation:
            merged = [{canonical.get(k, k): v for k, v in r.items()} for r in operation["security"]]
            operation["security"] = [r for i, r in enumerate(merged) if r not in merged[:i]]
    for name, first in canonical.items():
        if name != first:
            del schemes[name]
    return result


def _operations(result):
    for path_item in result.get("paths", {}).values():
        yield from (op for op in path_item.values() if isinstance(op, dict) and "responses" in op)
