"""The API's error envelope: REST framework's EXCEPTION_HANDLER and the pieces the other views share."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

# The contract's codes, by status. ValidationError is 400 in REST framework and 422 here.
ERROR_CODES = {
    status.HTTP_400_BAD_REQUEST: "bad_request",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_411_LENGTH_REQUIRED: "length_required",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_422_UNPROCESSABLE_ENTITY: "validation_error",
}


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than 1 MiB."
    default_code = "payload_too_large"


class LengthRequired(APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_detail = "A request body needs a Content-Length header: chunked bodies are not read."
    default_code = "length_required"


def error_envelope(code: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Return the body of an API error: {"error": code}, plus "fields" for validation errors."""
    envelope: dict[str, Any] = {"error": code}
    if fields is not None:
        envelope["fields"] = fields
    return envelope


def field_errors(detail: Any) -> dict[str, Any]:
    """Return a ValidationError's messages keyed by field (errors about the whole body included)."""
    if isinstance(detail, dict):
        return detail
    return {api_settings.NON_FIELD_ERRORS_KEY: detail if isinstance(detail, list) else [detail]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Return REST framework's error response, reshaped into the contract's envelope."""
    if isinstance(exc, RequestDataTooBig):
        # Raised by Django when a body exceeds DATA_UPLOAD_MAX_MEMORY_SIZE.
        exc = PayloadTooLarge()
    # REST framework's handler maps Django's Http404 and PermissionDenied and keeps
    # the WWW-Authenticate header of a 401.
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a bug, which Django answers with a plain 500
    if isinstance(exc, ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        response.data = error_envelope("validation_error", field_errors(exc.detail))
    else:
        code = ERROR_CODES.get(response.status_code, getattr(exc, "default_code", "error"))
        response.data = error_envelope(code)
    return response
