"""API documentation: Swagger UI at /docs, with its assets served from the swagger-ui-bundle package.

FastAPI itself serves /openapi.json; its default /docs page would load Swagger UI from a CDN,
so the app turns that off (docs_url=None) and serves this page instead.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
SWAGGER_UI_ASSETS_URL = "/static/swagger-ui"

swagger_ui_assets = StaticFiles(directory=Path(str(swagger_ui_path)))

router = APIRouter(include_in_schema=False)


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
