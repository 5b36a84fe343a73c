"""API documentation: a valid OpenAPI 3 document of every /api operation, and a self-hosted Swagger UI."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from openapi_spec_validator import validate
from targets import AppServer

# (method, path) of every /api operation; path parameters are normalized to {id}.
API_OPERATIONS = {
    ("post", "/api/auth/token"),
    ("get", "/api/me"),
    ("get", "/api/items"),
    ("post", "/api/items"),
    ("get", "/api/items/{id}"),
    ("put", "/api/items/{id}"),
    ("delete", "/api/items/{id}"),
}
AUTHENTICATED_OPERATIONS = {
    ("get", "/api/me"),
    ("post", "/api/items"),
    ("put", "/api/items/{id}"),
    ("delete", "/api/items/{id}"),
}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def normalized_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{id}", path.rstrip("/") or "/")


@pytest.fixture
def openapi(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                found[(method, normalized_path(path))] = operation
    return found


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow local $refs until a node that is not a reference."""
    while isinstance(node, dict) and "$ref" in node:
        reference = str(node["$ref"])
        assert reference.startswith("#/"), f"only local references are expected, got {reference}"
        node = document
        for part in reference[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def response_for(operation: dict[str, Any], status: str) -> Any:
    """Return the documented response of a status, falling back to its range (4XX) and to default."""
    responses = operation["responses"]
    for key in (status, status[0] + "XX", "default"):
        if key in responses:
            return responses[key]
    raise AssertionError(f"status {status} is not documented (documented: {sorted(responses)})")


def test_openapi_is_a_valid_openapi_3_document(openapi: dict[str, Any]) -> None:
    assert str(openapi["openapi"]).startswith("3.")
    validate(openapi)


def test_openapi_covers_every_api_operation(openapi: dict[str, Any]) -> None:
    found = operations(openapi)
    missing = API_OPERATIONS - set(found)
    assert not missing, f"missing operations {sorted(missing)}; documented: {sorted(found)}"


def _parameters(
    document: dict[str, Any], path_item: dict[str, Any], operation: dict[str, Any]
) -> set[tuple[str, str]]:
    declared = [*path_item.get("parameters", []), *operation.get("parameters", [])]
    return {(resolve(document, p)["in"], resolve(document, p)["name"]) for p in declared}


def test_openapi_documents_parameters_and_bodies(openapi: dict[str, Any]) -> None:
    by_normalized = {normalized_path(path): item for path, item in openapi["paths"].items()}
    listing = by_normalized["/api/items"]
    assert {("query", "limit"), ("query", "offset")} <= _parameters(openapi, listing, listing["get"])
    for method in ("get", "put", "delete"):
        item = by_normalized["/api/items/{id}"]
        kinds = {kind for kind, _ in _parameters(openapi, item, item[method])}
        assert "path" in kinds, f"{method} /api/items/{{id}} declares no path parameter"
    for method, path in (("post", "/api/items"), ("put", "/api/items/{id}")):
        body = resolve(openapi, by_normalized[path][method]["requestBody"])
        schema = resolve(openapi, body["content"]["application/json"]["schema"])
        assert {"name", "description", "price", "quantity"} <= set(schema["properties"]), schema
    token_body = resolve(openapi, by_normalized["/api/auth/token"]["post"]["requestBody"])
    token_schema = resolve(openapi, token_body["content"]["application/x-www-form-urlencoded"]["schema"])
    assert {"username", "password"} <= set(token_schema["properties"])


def test_openapi_documents_the_success_responses(openapi: dict[str, Any]) -> None:
    found = operations(openapi)
    expected = {
        ("post", "/api/auth/token"): "200",
        ("get", "/api/me"): "200",
        ("get", "/api/items"): "200",
        ("post", "/api/items"): "201",
        ("get", "/api/items/{id}"): "200",
        ("put", "/api/items/{id}"): "200",
        ("delete", "/api/items/{id}"): "204",
    }
    for key, status in expected.items():
        assert status in found[key]["responses"], f"{key}: {sorted(found[key]['responses'])}"
    item_response = resolve(openapi, found[("get", "/api/items/{id}")]["responses"]["200"])
    item_schema = resolve(openapi, item_response["content"]["application/json"]["schema"])
    item_fields = {"id", "name", "description", "price", "quantity", "owner", "created_at"}
    assert item_fields <= set(item_schema["properties"]), item_schema


def _is_bearer_scheme(scheme: dict[str, Any]) -> bool:
    http_bearer = scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
    oauth2_password = scheme.get("type") == "oauth2" and "password" in scheme.get("flows", {})
    return http_bearer or oauth2_password


def test_openapi_declares_the_bearer_scheme_on_authenticated_operations(openapi: dict[str, Any]) -> None:
    schemes = {
        name: resolve(openapi, scheme)
        for name, scheme in openapi.get("components", {}).get("securitySchemes", {}).items()
    }
    bearer = {name for name, scheme in schemes.items() if _is_bearer_scheme(scheme)}
    assert bearer, f"no bearer security scheme among {schemes}"
    found = operations(openapi)
    for key in AUTHENTICATED_OPERATIONS:
        requirements = found[key].get("security", openapi.get("security", []))
        assert any(bearer & set(requirement) for requirement in requirements), f"{key}: {requirements}"


def _error_schema(document: dict[str, Any], operation: dict[str, Any], status: str) -> dict[str, Any]:
    response = resolve(document, response_for(operation, status))
    return dict(resolve(document, response["content"]["application/json"]["schema"]))


def test_openapi_documents_the_error_envelope(openapi: dict[str, Any]) -> None:
    found = operations(openapi)
    create = found[("post", "/api/items")]
    for status in ("400", "401", "413", "415", "422"):
        schema = _error_schema(openapi, create, status)
        assert "error" in schema.get("properties", {}), f"{status}: {schema}"
    assert "fields" in _error_schema(openapi, create, "422")["properties"]
    for key, status in (
        (("get", "/api/items/{id}"), "404"),
        (("put", "/api/items/{id}"), "403"),
        (("delete", "/api/items/{id}"), "403"),
        (("get", "/api/me"), "401"),
        (("get", "/api/items"), "422"),
    ):
        schema = _error_schema(openapi, found[key], status)
        assert "error" in schema.get("properties", {}), f"{key} {status}: {schema}"


class _AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.references.append(value)
        self._in_script = tag == "script" and not dict(attrs).get("src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)


def _docs_page(client: httpx.Client) -> tuple[httpx.Response, _AssetCollector]:
    response = client.get("/docs", follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    collector = _AssetCollector()
    collector.feed(response.text)
    collector.close()
    return response, collector


def test_docs_reference_no_external_host(client: httpx.Client, app_server: AppServer) -> None:
    response, collector = _docs_page(client)
    own_host = urlsplit(app_server.base_url).netloc
    assert collector.references, "the Swagger UI page references no asset"
    for reference in collector.references:
        parts = urlsplit(urljoin(str(response.url), reference))
        assert parts.scheme in ("http", "https", "data", "javascript"), reference
        if parts.scheme in ("http", "https"):
            assert parts.netloc == own_host, f"{reference} is not served by the app"
    for script in collector.inline_scripts:
        hosts = set(re.findall(r"https?://([^/\"'\s]+)", script))
        assert hosts <= {own_host}, f"inline script loads from {hosts}"
    assert "swagger" in response.text.lower()


def test_docs_assets_are_served_by_the_app(client: httpx.Client) -> None:
    response, collector = _docs_page(client)
    assets = {
        urljoin(str(response.url), reference)
        for reference in collector.references
        if not reference.startswith(("#", "data:", "javascript:"))
    }
    assert any(asset.endswith(".js") for asset in assets), assets
    for asset in sorted(assets):
        answer = client.get(asset, follow_redirects=True)
        assert answer.status_code == 200, f"{asset}: {answer.status_code}"
        assert answer.content, asset
