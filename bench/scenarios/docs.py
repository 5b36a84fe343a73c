"""API documentation: GET /openapi.json (the generated schema) and GET /docs (Swagger UI)."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import fail, html_body, json_body

NAME = "docs"
TABLE_ROW = "docs"
WRITES = False
# Out of the overall score: the apps serve documents of different sizes (each framework's generator writes
# its own OpenAPI document), so its throughput compares documents more than frameworks.
IN_SCORE = False


class DocsUser(FastHttpUser):
    wait_time = constant(0)

    @task(3)
    def read_openapi(self) -> None:
        with self.client.get("/openapi.json", catch_response=True) as response:
            body = json_body(response, status=200)
            if body is None:
                return
            if not isinstance(body, dict) or not str(body.get("openapi", "")).startswith("3."):
                fail(response, "not an OpenAPI 3 document")
            elif not any(path.startswith("/api/items") for path in body.get("paths", {})):
                fail(response, "the schema does not cover /api/items")

    @task(1)
    def read_swagger_ui(self) -> None:
        with self.client.get("/docs", catch_response=True) as response:
            html = html_body(response)
            if html is not None and "swagger" not in html.lower():
                fail(response, "no Swagger UI on the page")
