"""Exception handlers: the JSON error envelope under /api, FastAPI's own answers elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from apps.fastapi_app.schemas import ErrorResponse, ValidationErrorResponse

# 413 and 422 by http.HTTPStatus's names, which every Starlette accepts: status.HTTP_413_CONTENT_TOO_LARGE
# came with Starlette 0.48, and FastAPI 0.115's Starlette lacks it (docs/versions.md, the shims).
ERROR_CODES = {
    status.HTTP_400_BAD_REQUEST: "bad_request",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "forbidden",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    HTTPStatus.UNPROCESSABLE_ENTITY: "validation_error",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "internal_error",
}
_LOCATIONS = {"body", "query", "path", "header", "cookie"}
# The methods a route may declare (OPTIONS is answered for every path, in handle_http_exception).
ROUTABLE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class LoginRequiredError(Exception):
    """Raised by the HTML pages' login dependency: the answer is a redirect to /login."""


def path_uses_error_envelope(path: str) -> bool:
    """Return whether errors at this path are answered with the JSON envelope (/api and /io)."""
    return path == "/io" or path == "/api" or path.startswith("/api/")


def uses_error_envelope(request: Request) -> bool:
    """Return whether the request's errors are answered with the JSON envelope."""
    return path_uses_error_envelope(request.url.path)


def error_code(status_code: int) -> str:
    """Return the envelope's error code for an HTTP status."""
    return ERROR_CODES.get(status_code) or HTTPStatus(status_code).phrase.lower().replace(" ", "_")


def error_response(
    status_code: int,
    *,
    fields: dict[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Return the JSON error envelope for a status, with the invalid fields of a 422."""
    content: dict[str, Any] = {"error": error_code(status_code)}
    if fields is not None:
        content["fields"] = fields
    return JSONResponse(content, status_code=status_code, headers=headers)


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI `responses` of a route: the envelope for each of these statuses."""
    return {
        code: {
            "model": ValidationErrorResponse if code == HTTPStatus.UNPROCESSABLE_ENTITY else ErrorResponse,
            "description": HTTPStatus(code).phrase,
        }
        for code in status_codes
    }


def _field_name(location: tuple[str | int, ...]) -> str:
    # ("body", "price") -> "price"; ("query", "limit") -> "limit"; a body that is not an object
    # has the location ("body",) and is reported as "body".
    parts = location[1:] if location and location[0] in _LOCATIONS else location
    return ".".join(str(part) for part in parts) or str(location[0])


def names_no_resource(errors: Iterable[Mapping[str, Any]]) -> bool:
    """Return whether only path parameters are invalid: the URL names no item, like a route that fails."""
    locations = [tuple(error["loc"]) for error in errors]
    return bool(locations) and all(location[:1] == ("path",) for location in locations)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    """Answer 422 with every invalid field, 400 when the body is not JSON at all, 404 for a path that names
    nothing (/api/items/abc: Werkzeug's and Django's URL converters do not match it either)."""
    assert isinstance(exc, RequestValidationError)
    if not uses_error_envelope(request):
        return await request_validation_exception_handler(request, exc)
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return error_response(status.HTTP_400_BAD_REQUEST)
    if names_no_resource(errors):
        return error_response(status.HTTP_404_NOT_FOUND)
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(_field_name(tuple(error["loc"])), []).append(error["msg"])
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, fields=fields)


def allowed_methods(routes: Iterable[BaseRoute], *, path: str, root_path: str = "") -> list[str]:
    """Return the methods the routes serve at a path (OPTIONS included, which the 405 handler answers)."""
    # Asked method by method through BaseRoute.matches, so routes of included routers count too.
    methods = {"OPTIONS"}
    for route in routes:
        for method in ROUTABLE_METHODS:
            probe = {"type": "http", "path": path, "root_path": root_path, "method": method}
            if route.matches(probe)[0] is Match.FULL:
                methods.add(method)
    return sorted(methods)


def is_router_405(exc: StarletteHTTPException) -> bool:
    """Return whether this is the router's 405: a route serves the path, none the method."""
    return exc.status_code == status.HTTP_405_METHOD_NOT_ALLOWED and "Allow" in (exc.headers or {})


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Answer an HTTPException (also the router's 404 and 405) with the envelope under /api."""
    assert isinstance(exc, StarletteHTTPException)
    if is_router_405(exc):
        # Starlette's router answers 405 from the first route whose path matches, so Allow named only
        # that route's methods (GET on /api/items, which takes POST too); RFC 9110 wants the resource's.
        # Werkzeug and Django answer OPTIONS for every route: here it comes through the 405, which no
        # other request pays for.
        allow = ", ".join(
            allowed_methods(
                request.app.routes, path=request.scope["path"], root_path=request.scope.get("root_path", "")
            )
        )
        if request.method == "OPTIONS":
            return Response(status_code=status.HTTP_200_OK, headers={"Allow": allow})
        exc = StarletteHTTPException(
            exc.status_code, detail=exc.detail, headers={**(exc.headers or {}), "Allow": allow}
        )
    if not uses_error_envelope(request):
        return await http_exception_handler(request, exc)
    return error_response(exc.status_code, headers=exc.headers)


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    """Answer 500 without any detail; the traceback goes to the server's log only."""
    if uses_error_envelope(request):
        return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR)
    return PlainTextResponse("Internal Server Error", status_code=500)


async def redirect_to_login(request: Request, exc: Exception) -> Response:
    """Send an anonymous visitor of an HTML page to /login, remembering where they were going."""
    next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = urlencode({"next": next_url})
    return RedirectResponse(f"/login?{query}", status_code=status.HTTP_303_SEE_OTHER)


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handlers above on the app."""
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(LoginRequiredError, redirect_to_login)
    app.add_exception_handler(Exception, handle_unexpected_error)
