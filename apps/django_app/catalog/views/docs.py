"""API documentation: the OpenAPI 3 document and Swagger UI, both from drf-spectacular.

Swagger UI's JavaScript and CSS come from drf-spectacular-sidecar (SWAGGER_UI_DIST = "SIDECAR"):
collected into STATIC_ROOT by the setup command and served by the app, so /docs needs no CDN.
"""

from __future__ import annotations

import threading
from typing import Any

from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response

SCHEMA_URL_NAME = "openapi-schema"
# The name reverse() needs: the route lives in the catalog app's URL namespace.
SCHEMA_URL = f"catalog:{SCHEMA_URL_NAME}"


class CachedOpenApiView(SpectacularJSONAPIView):
    """Serves the OpenAPI document, generated once per process.

    The document only changes with the code. FastAPI and flask-smorest build theirs once too, and
    drf-spectacular's generator is not thread-safe: concurrent generation under gunicorn's threads
    failed now and then with a 500.
    """

    # Served as application/json (drf-spectacular's first choice is application/vnd.oai.openapi+json).
    renderer_classes = [OpenApiJsonRenderer2]
    _lock = threading.Lock()
    _schema: dict[str, Any] | None = None

    def _get_schema_response(self, request: Request) -> Response:
        cls = type(self)
        with cls._lock:
            if cls._schema is None:
                generator = self.generator_class(urlconf=self.urlconf, patterns=self.patterns)
                cls._schema = generator.get_schema(request=request, public=self.serve_public)
        return Response(data=cls._schema)


read_openapi = CachedOpenApiView.as_view()
read_docs = SpectacularSwaggerView.as_view(url_name=SCHEMA_URL)
