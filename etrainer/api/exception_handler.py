"""Map every exception an API view raises to the JSON error envelope of DESIGN.md §7."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from pymongo.errors import ConnectionFailure as MongoConnectionFailure
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import InvalidToken

from etrainer.api.errors import ApplicationError, ErrorCode, error_body

logger = logging.getLogger("etrainer.api")


# The database is unreachable or restarting: the client should come back, not give up.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, MongoConnectionFailure)
DATABASE_RETRY_AFTER_SECONDS = 5


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "payload_too_large"


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("The service is temporarily unavailable; try again shortly.")
    default_code = "service_unavailable"
    wait = DATABASE_RETRY_AFTER_SECONDS


_CODE_BY_EXCEPTION = [
    (PayloadTooLarge, ErrorCode.PAYLOAD_TOO_LARGE),
    (InvalidToken, ErrorCode.TOKEN_NOT_VALID),
    (exceptions.ValidationError, ErrorCode.VALIDATION_ERROR),
    (exceptions.ParseError, ErrorCode.PARSE_ERROR),
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, ErrorCode.AUTHENTICATION_FAILED),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.RATE_LIMITED),
    (DatabaseUnavailable, ErrorCode.SERVICE_UNAVAILABLE),
]


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    exc = _as_api_exception(exc)
    if exc is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
        return Response(
            error_body(ErrorCode.SERVER_ERROR, gettext("Internal server error.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response = Response(_envelope(exc), status=exc.status_code)
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


def _as_api_exception(exc) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("Database unavailable: %s", exc)
        return DatabaseUnavailable()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):
        # Too many fields/files, a malformed multipart body: the client's fault, not a 500.
        return exceptions.ParseError(str(exc) or gettext("Malformed request."))
    return None


def _envelope(exc: exceptions.APIException) -> dict:
    code = next(
        (code for kind, code in _CODE_BY_EXCEPTION if isinstance(exc, kind)),
        ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.SERVER_ERROR,
    )
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return error_body(code, gettext("The request is invalid."), {"fields": details})
    if isinstance(exc, InvalidToken):
        return error_body(code, gettext("The token is invalid or expired."))
    detail = exc.detail
    message = str(detail) if not isinstance(detail, dict | list) else exc.default_detail
    return error_body(code, str(message))
