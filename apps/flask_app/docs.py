"""The OpenAPI document at /openapi.json and Swagger UI at /docs, its assets served locally.

flask-smorest builds the document from the blueprints' decorators and serves both pages; the
Swagger UI files come from the swagger-ui-bundle package, served by a static-only blueprint.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import Blueprint, Flask
from swagger_ui_bundle import swagger_ui_path

from apps.flask_app.auth import BEARER_SCHEME_NAME
from apps.flask_app.extensions import api

SWAGGER_UI_ASSETS_URL = "/docs/assets/"

# flask-smorest's settings, loaded into app.config by create_app().
OPENAPI_SETTINGS = {
    "API_TITLE": "framework-bench items API (Flask)",
    "API_VERSION": "1.0.0",
    # Swagger UI 4, the one swagger-ui-bundle ships, renders OpenAPI 3.0.
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": SWAGGER_UI_ASSETS_URL,
    # No badge that would ask validator.swagger.io about the document.
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
}

swagger_ui_assets = Blueprint(
    "swagger_ui_assets",
    __name__,
    static_folder=swagger_ui_path,
    static_url_path=SWAGGER_UI_ASSETS_URL.rstrip("/"),
)


# gunicorn answers a request line over 4094 bytes itself, before any app code: documented on every operation.
URI_TOO_LONG = {
    "414": {"description": "URI Too Long: the request line is over 4094 bytes (answered by gunicorn)"}
}


class ContractPlugin(BasePlugin):
    """What apispec leaves out of the document: that unknown fields are ignored, and gunicorn's 414."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        # apispec writes additionalProperties for RAISE and INCLUDE only; EXCLUDE ignores unknown fields.
        schema = kwargs.get("schema")
        if isinstance(schema, str):
            schema = ma.class_registry.get_class(schema)
        if getattr(getattr(schema, "Meta", None), "unknown", None) == ma.EXCLUDE:
            return {"additionalProperties": True}
        return None

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if path is None or not path.startswith("/api"):
            return
        for operation in (operations or {}).values():
            operation.setdefault("responses", {}).update(URI_TOO_LONG)


def init_docs(app: Flask) -> None:
    """Serve the Swagger UI assets and declare the bearer scheme in the OpenAPI document."""
    app.register_blueprint(swagger_ui_assets)
    api.spec.components.security_scheme(
        BEARER_SCHEME_NAME, {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
