"""The items API: list, create, read, replace, delete; ownership, validation and every error code."""

from __future__ import annotations

import json
from datetime import datetime as dt
from datetime import timedelta
from typing import Any

import httpx
import pytest
import statements
from envelope import assert_error
from stored_rows import table_named
from targets import ADMIN, USER, AppServer

from apps.seed_data import ITEM_ROWS, items

ONE_MIB = 1_048_576
UNKNOWN_ID = 99_999_999
SEEDED_ITEM_1 = next(items())
VALID_ITEM = {
    "name": "Contract widget",
    "description": "Made by the contract suite.",
    "price": 12.5,
    "quantity": 3,
}


def assert_item(body: Any, *, expected: dict[str, Any], owner: str) -> None:
    assert set(body) == {"id", "name", "description", "price", "quantity", "owner", "created_at"}, body
    assert type(body["id"]) is int
    assert body["name"] == expected["name"]
    assert body["description"] == expected.get("description", "")
    assert type(body["price"]) in (int, float), body  # a JSON number, not a string
    assert body["price"] == pytest.approx(expected["price"])
    assert type(body["quantity"]) is int
    assert body["quantity"] == expected.get("quantity", 0)
    assert body["owner"] == owner
    created_at = dt.fromisoformat(body["created_at"])  # RFC 3339
    assert created_at.utcoffset() == timedelta(0), body["created_at"]


def create_item(
    client: httpx.Client, auth: dict[str, str], item: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = client.post("/api/items", json=item or VALID_ITEM, headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def total_items(client: httpx.Client) -> int:
    total: int = client.get("/api/items").json()["total"]
    return total


def json_body_of_size(size: int) -> bytes:
    """Return a valid item as JSON of exactly size bytes, padded with an unknown (ignored) field."""
    document = {**VALID_ITEM, "padding": ""}
    unpadded = len(json.dumps(document).encode())
    document["padding"] = "x" * (size - unpadded)
    body = json.dumps(document).encode()
    assert len(body) == size
    return body


# --- reading ------------------------------------------------------------------------------------------


def test_list_defaults(client: httpx.Client) -> None:
    response = client.get("/api/items")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "limit", "offset"}
    assert body["limit"] == 20
    assert body["offset"] == 0
    assert body["total"] >= ITEM_ROWS
    assert [item["id"] for item in body["items"]] == list(range(1, 21))


def test_list_pages_in_id_order(client: httpx.Client) -> None:
    body = client.get("/api/items", params={"limit": 100, "offset": 950}).json()
    assert (body["limit"], body["offset"]) == (100, 950)
    ids = [item["id"] for item in body["items"]]
    assert ids[:50] == list(range(951, 1001))
    assert ids == sorted(ids)
    assert len(ids) == min(100, body["total"] - 950)


def test_list_past_the_end_is_empty(client: httpx.Client) -> None:
    total = total_items(client)
    body = client.get("/api/items", params={"offset": total}).json()
    assert body["items"] == []
    assert body["total"] == total


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": ""}, "offset"),
        ({"offset": "abc"}, "offset"),
    ],
)
def test_list_rejects_bad_paging(client: httpx.Client, params: dict[str, str], field: str) -> None:
    assert_error(client.get("/api/items", params=params), "validation_error", fields=(field,))


def test_list_names_every_bad_parameter(client: httpx.Client) -> None:
    response = client.get("/api/items", params={"limit": "0", "offset": "-1"})
    assert_error(response, "validation_error", fields=("limit", "offset"))


def test_read_a_seeded_item(client: httpx.Client) -> None:
    response = client.get("/api/items/1")
    assert response.status_code == 200
    body = response.json()
    expected = {
        "name": SEEDED_ITEM_1.name,
        "description": SEEDED_ITEM_1.description,
        "price": float(SEEDED_ITEM_1.price),
        "quantity": SEEDED_ITEM_1.quantity,
    }
    assert_item(body, expected=expected, owner=ADMIN)
    assert dt.fromisoformat(body["created_at"]) == SEEDED_ITEM_1.created_at


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("path", "selects", "rows"),
    [("/api/items", 2, 21), ("/api/items/1", 1, 1)],  # the list: a page of 20 and the count
)
def test_reads_send_their_selects_in_autocommit(
    client: httpx.Client, app_server: AppServer, path: str, selects: int, rows: int
) -> None:
    """The same statements in every app (docs/contract.md, "SQL per request")."""
    counted = statements.count_request(
        client, app_server, path, table=table_named(app_server.database_url, suffix="item")
    )
    expected = statements.autocommit_reads(
        selects=selects, rows=rows, prepared=statements.driver_prepares(app_server.driver)
    )
    assert counted == expected, "\n".join(counted.log)


def test_read_an_unknown_item(client: httpx.Client) -> None:
    assert_error(client.get(f"/api/items/{UNKNOWN_ID}"), "not_found")


def test_unknown_api_route(client: httpx.Client) -> None:
    assert_error(client.get("/api/no-such-route"), "not_found")


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/api/items"), ("PATCH", "/api/items/1"), ("GET", "/api/auth/token")]
)
def test_method_not_allowed(client: httpx.Client, admin_auth: dict[str, str], method: str, path: str) -> None:
    assert_error(client.request(method, path, headers=admin_auth), "method_not_allowed")


# The methods of each /api resource in the contract. HEAD and OPTIONS are the server's: Werkzeug and Django
# answer both for every route, FastAPI answers OPTIONS (errors.py) but no HEAD.
RESOURCE_METHODS = {
    "/api/items": {"GET", "POST"},
    "/api/items/1": {"GET", "PUT", "DELETE"},
    "/api/auth/token": {"POST"},
    "/api/me": {"GET"},
}
SERVER_METHODS = {"HEAD", "OPTIONS"}


def _allow(response: httpx.Response) -> set[str]:
    return {
        method.strip().upper() for method in response.headers.get("allow", "").split(",") if method.strip()
    }


@pytest.mark.parametrize("path", list(RESOURCE_METHODS))
def test_a_405_allows_every_method_of_the_resource(
    client: httpx.Client, admin_auth: dict[str, str], path: str
) -> None:
    # RFC 9110 (15.5.6): Allow lists the methods the target resource supports, not those of one route.
    response = client.request("PATCH", path, headers=admin_auth)
    assert_error(response, "method_not_allowed")
    allowed = _allow(response)
    assert allowed - SERVER_METHODS == RESOURCE_METHODS[path], response.headers
    # OPTIONS answers with the same list, and every method the list names is served (no 405).
    options = client.options(path, headers=admin_auth)
    assert options.status_code in (200, 204), options.text
    assert _allow(options) == allowed, options.headers
    assert "OPTIONS" in allowed
    if "HEAD" in allowed:
        assert client.head(path, headers=admin_auth).status_code != 405


# --- writing ------------------------------------------------------------------------------------------


def test_create_read_replace_delete(client: httpx.Client, user_auth: dict[str, str]) -> None:
    before = total_items(client)
    created = create_item(client, user_auth)
    assert_item(created, expected=VALID_ITEM, owner=USER)
    assert total_items(client) == before + 1
    assert client.get(f"/api/items/{created['id']}").json() == created

    replacement = {"name": "Replaced", "price": 7}
    response = client.put(f"/api/items/{created['id']}", json=replacement, headers=user_auth)
    assert response.status_code == 200, response.text
    # The whole item is replaced: omitted fields take their defaults.
    assert_item(response.json(), expected=replacement, owner=USER)
    assert response.json()["id"] == created["id"]
    assert client.get(f"/api/items/{created['id']}").json() == response.json()

    response = client.delete(f"/api/items/{created['id']}", headers=user_auth)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_error(client.get(f"/api/items/{created['id']}"), "not_found")
    assert_error(client.delete(f"/api/items/{created['id']}", headers=user_auth), "not_found")
    assert total_items(client) == before


def test_only_the_owner_may_replace_or_delete(
    client: httpx.Client, user_auth: dict[str, str], admin_auth: dict[str, str]
) -> None:
    # admin is staff, but staff is no owner: the rule is the same for everyone.
    created = create_item(client, user_auth)
    assert_error(client.put(f"/api/items/{created['id']}", json=VALID_ITEM, headers=admin_auth), "forbidden")
    assert_error(client.delete(f"/api/items/{created['id']}", headers=admin_auth), "forbidden")
    assert_error(
        client.put("/api/items/1", json={"name": "Hijacked", "price": 1}, headers=user_auth), "forbidden"
    )
    assert_error(client.delete("/api/items/1", headers=user_auth), "forbidden")
    assert client.get(f"/api/items/{created['id']}").json() == created
    assert client.get("/api/items/1").json()["name"] == SEEDED_ITEM_1.name


def test_writes_to_an_unknown_item(client: httpx.Client, user_auth: dict[str, str]) -> None:
    assert_error(client.put(f"/api/items/{UNKNOWN_ID}", json=VALID_ITEM, headers=user_auth), "not_found")
    assert_error(client.delete(f"/api/items/{UNKNOWN_ID}", headers=user_auth), "not_found")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("item_id", [1, UNKNOWN_ID])
def test_writing_needs_a_token_before_anything_else(client: httpx.Client, method: str, item_id: int) -> None:
    # Without a valid token a request never learns whether an item exists (401 before 403 and 404).
    path = "/api/items" if method == "POST" else f"/api/items/{item_id}"
    body = None if method == "DELETE" else VALID_ITEM
    assert_error(client.request(method, path, json=body), "not_authenticated")
    forged = {"Authorization": "Bearer not-a-token"}
    assert_error(client.request(method, path, json=body, headers=forged), "not_authenticated")


def test_writing_with_an_invalid_body_and_no_token(client: httpx.Client) -> None:
    response = client.put(f"/api/items/{UNKNOWN_ID}", json={"price": "free"})
    assert response.status_code in (401, 422), response.text
    assert response.status_code != 404


def test_unknown_fields_are_ignored(client: httpx.Client, user_auth: dict[str, str]) -> None:
    created = create_item(client, user_auth, {**VALID_ITEM, "owner": ADMIN, "id": 5, "colour": "red"})
    assert_item(created, expected=VALID_ITEM, owner=USER)
    assert created["id"] != 5


@pytest.mark.parametrize(
    "item",
    [
        {"name": "x", "price": 10.0},
        {"name": "x", "price": 10.5},
        {"name": "x", "price": 10},
        {"name": "x", "price": 0.01},
        {"name": "x", "price": 1_000_000},
        {"name": "n" * 100, "price": 1, "description": "d" * 1000, "quantity": 0},
        {"name": "Déjà vu ✓ フレーム", "price": 99.99, "quantity": 2**31 - 1},
    ],
    ids=["10.0", "10.5", "int-price", "0.01", "max-price", "max-lengths", "unicode"],
)
def test_valid_items_are_accepted(
    client: httpx.Client, user_auth: dict[str, str], item: dict[str, Any]
) -> None:
    created = create_item(client, user_auth, item)
    assert_item(created, expected=item, owner=USER)


INVALID_FIELDS = [
    ({"price": 1}, "name"),
    ({"name": "", "price": 1}, "name"),
    ({"name": "n" * 101, "price": 1}, "name"),
    ({"name": 123, "price": 1}, "name"),
    ({"name": None, "price": 1}, "name"),
    ({"name": "x"}, "price"),
    ({"name": "x", "price": "10.00"}, "price"),
    ({"name": "x", "price": True}, "price"),
    ({"name": "x", "price": 0}, "price"),
    ({"name": "x", "price": -1}, "price"),
    ({"name": "x", "price": 1.234}, "price"),
    ({"name": "x", "price": 1_000_000.01}, "price"),
    ({"name": "x", "price": None}, "price"),
    ({"name": "x", "price": 1, "description": "d" * 1001}, "description"),
    ({"name": "x", "price": 1, "description": 5}, "description"),
    ({"name": "x", "price": 1, "quantity": 3.0}, "quantity"),
    ({"name": "x", "price": 1, "quantity": 2.5}, "quantity"),
    ({"name": "x", "price": 1, "quantity": "3"}, "quantity"),
    ({"name": "x", "price": 1, "quantity": True}, "quantity"),
    ({"name": "x", "price": 1, "quantity": -1}, "quantity"),
]
INVALID_IDS = [
    "name-missing",
    "name-empty",
    "name-101",
    "name-number",
    "name-null",
    "price-missing",
    "price-string",
    "price-bool",
    "price-0",
    "price-negative",
    "price-3-decimals",
    "price-above-max",
    "price-null",
    "description-1001",
    "description-number",
    "quantity-3.0",
    "quantity-2.5",
    "quantity-string",
    "quantity-bool",
    "quantity-negative",
]


@pytest.mark.parametrize(("item", "field"), INVALID_FIELDS, ids=INVALID_IDS)
def test_invalid_fields_are_named(
    client: httpx.Client, user_auth: dict[str, str], item: dict[str, Any], field: str
) -> None:
    before = total_items(client)
    assert_error(client.post("/api/items", json=item, headers=user_auth), "validation_error", fields=(field,))
    assert total_items(client) == before


def test_replace_validates_like_create(client: httpx.Client, user_auth: dict[str, str]) -> None:
    created = create_item(client, user_auth)
    response = client.put(f"/api/items/{created['id']}", json={"name": "", "price": 1.234}, headers=user_auth)
    assert_error(response, "validation_error", fields=("name", "price"))
    assert client.get(f"/api/items/{created['id']}").json() == created


def test_every_invalid_field_is_named(client: httpx.Client, user_auth: dict[str, str]) -> None:
    item = {"name": "", "price": "1", "quantity": 1.5, "description": "d" * 1001}
    response = client.post("/api/items", json=item, headers=user_auth)
    assert_error(response, "validation_error", fields=("name", "price", "quantity", "description"))


@pytest.mark.parametrize("body", ["[]", '"an item"', "42", "null", "true", '[{"name": "x", "price": 1}]'])
def test_a_body_that_is_not_an_object(client: httpx.Client, user_auth: dict[str, str], body: str) -> None:
    headers = {**user_auth, "Content-Type": "application/json"}
    assert_error(client.post("/api/items", content=body, headers=headers), "validation_error")


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("body", ['{"name": "x", "price": 1', "{name: 'x'}", '{"name": "x",}', "not json"])
def test_malformed_json(client: httpx.Client, user_auth: dict[str, str], method: str, body: str) -> None:
    path = f"/api/items/{create_item(client, user_auth)['id']}" if method == "PUT" else "/api/items"
    headers = {**user_auth, "Content-Type": "application/json"}
    assert_error(client.request(method, path, content=body, headers=headers), "bad_request")


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "name=x&price=1"),
        ("text/plain", json.dumps(VALID_ITEM)),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
        ),
        (None, json.dumps(VALID_ITEM)),
    ],
    ids=["form", "text", "multipart", "no-content-type"],
)
def test_unsupported_media_type(
    client: httpx.Client, user_auth: dict[str, str], method: str, content_type: str | None, body: str
) -> None:
    created = create_item(client, user_auth) if method == "PUT" else None
    path = f"/api/items/{created['id']}" if created else "/api/items"
    headers = dict(user_auth)
    if content_type:
        headers["Content-Type"] = content_type
    before = total_items(client)
    assert_error(
        client.request(method, path, content=body.encode(), headers=headers), "unsupported_media_type"
    )
    assert total_items(client) == before
    if created:
        assert client.get(path).json() == created


def test_a_body_of_exactly_one_mib_is_accepted(client: httpx.Client, user_auth: dict[str, str]) -> None:
    headers = {**user_auth, "Content-Type": "application/json"}
    response = client.post("/api/items", content=json_body_of_size(ONE_MIB), headers=headers)
    assert response.status_code == 201, response.text[:1000]
    assert_item(response.json(), expected=VALID_ITEM, owner=USER)


@pytest.mark.parametrize("authenticated", [True, False], ids=["token", "no-token"])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_body_over_one_mib_is_too_large(
    client: httpx.Client, user_auth: dict[str, str], method: str, authenticated: bool
) -> None:
    # 413 comes first: before authentication, validation and the existence of the item.
    headers = {"Content-Type": "application/json", **(user_auth if authenticated else {})}
    path = "/api/items" if method == "POST" else f"/api/items/{UNKNOWN_ID}"
    before = total_items(client)
    response = client.request(method, path, content=json_body_of_size(ONE_MIB + 1), headers=headers)
    assert_error(response, "payload_too_large")
    assert total_items(client) == before
