"""How the JSON API answers bad requests: the error envelope, body parsing and the body limit.

Every error under /api and /io is {"error": CODE, "fields"?: {name: [messages]}}. flask-smorest
registers one handler for every HTTPException; EnvelopeApi replaces its payload with the envelope
under /api and /io and leaves Flask's own error pages elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import abort, current_app, request
from flask_smorest import Api, Blueprint
from webargs.flaskparser import FlaskParser
from webargs.flaskparser import abort as webargs_abort
from werkzeug.exceptions import HTTPException, MethodNotAllowed

ENVELOPE_PATH_PREFIXES = ("/api", "/io")

ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}
FALLBACK_ERROR_CODE = "internal_error"


class ErrorSchema(ma.Schema):
    """The error envelope every /api error response carries."""

    error = ma.fields.String(
        required=True, metadata={"description": "A machine-readable code, e.g. not_found"}
    )
    field_errors = ma.fields.Dict(
        data_key="fields",
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For validation errors: each invalid field and its messages"},
    )


def uses_error_envelope(path: str) -> bool:
    """Return whether errors at path are answered with the JSON envelope."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in ENVELOPE_PATH_PREFIXES)


def field_errors(messages: Mapping[str, Any]) -> dict[str, Any]:
    """Return webargs' {location: {field: [messages]}} as {field: [messages]}."""
    fields: dict[str, Any] = {}
    for location_messages in messages.values():
        if isinstance(location_messages, Mapping):
            fields.update(location_messages)
    return fields


class EnvelopeApi(Api):
    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" response on every operation: each documents the statuses it answers, so a client
    # (or a fuzzer's status check) can tell an undocumented answer.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Return the envelope for an error under /api or /io, Flask's own page elsewhere."""
        if not uses_error_envelope(request.path):
            return error
        status = error.code or 500
        payload: dict[str, Any] = {"error": ERROR_CODES.get(status, FALLBACK_ERROR_CODE)}
        headers: dict[str, str] = {}
        # webargs' abort() stores the validation messages and extra headers in error.data.
        data = getattr(error, "data", None) or {}
        if status == 422 and "messages" in data:
            payload["fields"] = field_errors(data["messages"])
        headers.update(data.get("headers") or {})
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return payload, status, headers


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, counting JSON nested deeper than Python's parser goes as malformed."""

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as error:
            webargs_abort(HTTPStatus.BAD_REQUEST, exc=error, messages={"json": ["Invalid JSON body."]})


class ApiBlueprint(Blueprint):
    """The blueprint of the JSON API's features."""

    ARGUMENTS_PARSER = JsonBodyParser()


def error_responses(*statuses: HTTPStatus) -> dict[int, str]:
    """Return an OpenAPI responses mapping that documents each status with the envelope.

    The names are the component responses flask-smorest registers lazily for every status.
    """
    return {int(status): status.name for status in statuses}


def reject_oversized_body() -> None:
    """Abort with 413 before anything else runs when the declared body is over the limit.

    Werkzeug enforces MAX_CONTENT_LENGTH only when the body is read, which for the API comes
    after the token check; the contract wants 413 to win.
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if "HTTP_TRANSFER_ENCODING" in request.environ and request.environ.get("wsgi.input_terminated"):
        _reject_oversized_stream(limit)
        return
    declared = request.content_length
    if declared is not None and declared > limit:
        # gunicorn closes a connection that still holds over 64 KiB of unread body, and a client
        # still sending would then see a reset instead of the 413. A body at most twice the limit
        # is read and dropped first; a larger one is not worth reading.
        if declared <= 2 * limit:
            _discard_body(declared)
        abort(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def _reject_oversized_stream(limit: int) -> None:
    # A body without a Content-Length (chunked), which the server ends for the app: Werkzeug reads it
    # through a stream capped at MAX_CONTENT_LENGTH that stops there without a word, so an oversized body
    # would be cut to the limit and parsed (a JSON object followed by spaces passed as valid). The body is
    # read here, cached for the view, and one byte more tells whether the client sent more.
    if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
        _discard_body(limit)
        abort(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def _discard_body(length: int) -> None:
    stream = request.environ["wsgi.input"]
    while length > 0:
        chunk = stream.read(min(length, 65_536))
        if not chunk:
            return
        length -= len(chunk)
