"""API documentation: the OpenAPI 3 document and Swagger UI, both from drf-spectacular.

Swagger UI's JavaScript and CSS come from drf-spectacular-sidecar (SWAGGER_UI_DIST = "SIDECAR"):
collected into STATIC_ROOT by the setup command and served by the app, so /docs needs no CDN.
"""

from __future__ import annotations

from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

SCHEMA_URL_NAME = "openapi-schema"
# The name reverse() needs: the route lives in the catalog app's URL namespace.
SCHEMA_URL = f"catalog:{SCHEMA_URL_NAME}"

# Served as application/json (drf-spectacular's first choice is application/vnd.oai.openapi+json).
read_openapi = SpectacularJSONAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2])
read_docs = SpectacularSwaggerView.as_view(url_name=SCHEMA_URL)
