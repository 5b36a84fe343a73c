"""API documentation: the OpenAPI document and Swagger UI at /docs, its assets served from swagger-ui-bundle.

FastAPI itself serves /openapi.json, built by `api_document`; its default /docs page would load Swagger UI
from a CDN, so the app turns that off (docs_url=None) and serves this page instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
SWAGGER_UI_ASSETS_URL = "/static/swagger-ui"

swagger_ui_assets = StaticFiles(directory=Path(str(swagger_ui_path)))

router = APIRouter(include_in_schema=False)
VALIDATION_ERROR = "422"


def can_fail_validation(operation: dict[str, Any]) -> bool:
    """Return whether a 422 can answer the operation: it has a body or a query parameter.

    FastAPI documents a 422 on every operation with a parameter, but an invalid path parameter is a 404
    here (errors.names_no_resource).
    """
    parameters = operation.get("parameters", [])
    return "requestBody" in operation or any(parameter["in"] != "path" for parameter in parameters)


def api_document(app: FastAPI) -> dict[str, Any]:
    """Return the OpenAPI document (built once): FastAPI's, each operation with the statuses it answers."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            routes=app.routes,
        )
        for path_item in document.get("paths", {}).values():
            for operation in path_item.values():
                if not can_fail_validation(operation):
                    operation["responses"].pop(VALIDATION_ERROR, None)
        app.openapi_schema = document
    return app.openapi_schema


@router.get(DOCS_URL)
async def read_swagger_ui(request: Request) -> HTMLResponse:
    """Return the Swagger UI page for the app's OpenAPI document."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        swagger_js_url=f"{SWAGGER_UI_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI_ASSETS_URL}/favicon-32x32.png",
    )


@router.get(OAUTH2_REDIRECT_URL)
async def read_swagger_ui_oauth2_redirect() -> HTMLResponse:
    """Return the page Swagger UI's OAuth2 flows come back to."""
    return get_swagger_ui_oauth2_redirect_html()
