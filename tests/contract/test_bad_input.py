"""Bad input never yields a 500: malformed JSON, oversized and chunked bodies, wrong types, unknown ids and
SQL-looking strings in query parameters, path parameters, JSON fields and form fields."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from envelope import ERROR_STATUS, assert_error
from html_forms import find_form, submit_form
from targets import USER

SQL_LOOKING = ["1; DROP TABLE world", "' OR 1=1 --", '1" OR "1"="1', "1 UNION SELECT * FROM users"]
ONE_MIB = 1_048_576


def assert_handled(response: httpx.Response, *, allowed: tuple[int, ...] | None = None) -> None:
    """Not a server error, no stack trace; under /api an error uses the envelope."""
    request = f"{response.request.method} {str(response.request.url)[:300]}"
    assert response.status_code < 500, f"{request}: {response.status_code} {response.text[:1000]}"
    if allowed is not None:
        assert response.status_code in allowed, f"{request}: {response.status_code} {response.text[:1000]}"
    assert "Traceback" not in response.text
    if response.request.url.path.startswith("/api") and response.status_code >= 400:
        codes = {status: code for code, status in ERROR_STATUS.items()}
        assert_error(response, codes[response.status_code])


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_in_query_parameters(client: httpx.Client, text: str) -> None:
    for endpoint in ("/queries", "/updates"):
        response = client.get(endpoint, params={"queries": text})
        assert_handled(response, allowed=(200,))
        assert len(response.json()) == 1
    for name in ("limit", "offset"):
        assert_error(client.get("/api/items", params={name: text}), "validation_error", fields=(name,))
    assert_error(client.get("/io", params={"ms": text}), "validation_error", fields=("ms",))


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_in_path_parameters(client: httpx.Client, user_auth: dict[str, str], text: str) -> None:
    path = "/api/items/" + quote(text, safe="")
    assert_handled(client.get(path), allowed=(404, 422))
    assert_handled(client.put(path, json={"name": "x", "price": 1}, headers=user_auth), allowed=(404, 422))
    assert_handled(client.delete(path, headers=user_auth), allowed=(404, 422))
    assert_handled(client.delete(path), allowed=(401, 404, 422))


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_in_json_fields_is_stored_as_text(
    client: httpx.Client, user_auth: dict[str, str], text: str
) -> None:
    response = client.post(
        "/api/items", json={"name": text, "description": text, "price": 1}, headers=user_auth
    )
    assert response.status_code == 201, response.text
    stored = client.get(f"/api/items/{response.json()['id']}").json()
    assert (stored["name"], stored["description"]) == (text, text)
    assert client.get("/api/items").json()["total"] > 0
    assert_error(
        client.post("/api/items", json={"name": "x", "price": text}, headers=user_auth), "validation_error"
    )


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_in_credentials(client: httpx.Client, text: str) -> None:
    assert_error(
        client.post("/api/auth/token", data={"username": text, "password": text}), "not_authenticated"
    )
    assert_error(
        client.post("/api/auth/token", data={"username": USER, "password": text}), "not_authenticated"
    )


def test_sql_in_html_forms(client: httpx.Client, user_browser: httpx.Client) -> None:
    text = SQL_LOOKING[0]
    page = user_browser.get("/items/new")
    form = find_form(page.text, field_name="name")
    response = submit_form(
        user_browser, page=page, form=form, values={"name": text, "price": "1", "quantity": "0"}
    )
    assert response.status_code == 303, response.text
    item_id = response.headers["location"].rstrip("/").rsplit("/", 1)[-1]
    assert client.get(f"/api/items/{item_id}").json()["name"] == text
    for path in ("/items/" + quote(text, safe=""), "/items/?page=" + quote(text)):
        assert_handled(user_browser.get(path))
    login_page = client.get("/login")
    login_form = find_form(login_page.text, field_name="password")
    answer = submit_form(
        client, page=login_page, form=login_form, values={"username": text, "password": text}
    )
    assert_handled(answer, allowed=(200, 401, 422))


@pytest.mark.parametrize(
    "item_id", ["0", "-1", "99999999", str(2**31), str(2**63), str(10**30), "1.5", "abc", "%00", "1e3"]
)
def test_unknown_and_odd_item_ids(client: httpx.Client, user_auth: dict[str, str], item_id: str) -> None:
    # A path that names no item is a 404 however it is spelled (the documents declare no 422 for a path).
    path = f"/api/items/{item_id}"
    assert_handled(client.get(path), allowed=(404,))
    assert_handled(client.put(path, json={"name": "x", "price": 1}, headers=user_auth), allowed=(404,))
    assert_handled(client.delete(path, headers=user_auth), allowed=(404,))
    assert_handled(client.delete(path), allowed=(401, 404))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"}",
        b"\xff\xfe\x00",
        b'{"name": "\xff", "price": 1}',
        b"\x00",
        b"[" * 10_000,
        b'{"a":' * 10_000,
    ],
    ids=["empty", "open-brace", "close-brace", "binary", "bad-utf8", "nul", "deep-array", "deep-object"],
)
def test_malformed_bodies(client: httpx.Client, user_auth: dict[str, str], body: bytes) -> None:
    headers = {**user_auth, "Content-Type": "application/json"}
    assert_handled(client.post("/api/items", content=body, headers=headers), allowed=(400, 422))


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "x", "price": NaN}',
        '{"name": "x", "price": Infinity}',
        '{"name": "x", "price": -Infinity}',
        '{"name": "x", "price": 1e400}',
        '{"name": "x", "price": 1e-400}',
        '{"name": "x", "price": 123456789012345678901234567890}',
        '{"name": "x", "price": 1, "quantity": 1e400}',
        '{"name": "x", "price": 1, "quantity": 100000000000000000000000000000}',
        '{"name": "x", "price": 1, "quantity": 2147483648}',
        '{"name": "x", "price": 1, "quantity": 9223372036854775808}',
        '{"name": "x\\u0000y", "price": 1}',
        '{"name": "\\ud800", "price": 1}',
        '{"name": {"$gt": ""}, "price": 1}',
        '{"name": ["x"], "price": [1]}',
        '{"name": "x", "name": 5, "price": 1}',
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "huge-float",
        "tiny-float",
        "huge-integer-price",
        "huge-float-quantity",
        "huge-integer-quantity",
        "quantity-2**31",
        "quantity-2**63",
        "nul-in-name",
        "lone-surrogate",
        "object-name",
        "arrays",
        "duplicate-keys",
    ],
)
def test_odd_json_values(client: httpx.Client, user_auth: dict[str, str], raw: str) -> None:
    # Valid JSON with values at the edge (or invalid JSON that Python's parser accepts): 201, 400 or 422.
    headers = {**user_auth, "Content-Type": "application/json"}
    response = client.post("/api/items", content=raw.encode(), headers=headers)
    assert_handled(response, allowed=(201, 400, 422))
    if response.status_code == 201:
        stored = client.get(f"/api/items/{response.json()['id']}")
        assert stored.json() == response.json()


def _chunks(body: bytes, size: int = 65_536) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _padded_item(size: int) -> bytes:
    document: dict[str, Any] = {"name": "Chunked", "price": 1, "padding": ""}
    document["padding"] = "x" * (size - len(json.dumps(document).encode()))
    return json.dumps(document).encode()


def _trailing_spaces_item(size: int) -> bytes:
    # A complete JSON object in the first bytes, then spaces: still valid JSON when cut anywhere after the
    # object, so a server that stops reading at the limit would take it for a valid item.
    document = json.dumps({"name": "Truncated", "price": 1}).encode()
    return document + b" " * (size - len(document))


OVERSIZED_BODIES = {
    "one-byte-over": lambda: _padded_item(ONE_MIB + 1),
    "valid-json-then-spaces": lambda: _trailing_spaces_item(ONE_MIB * 3 // 2),
}
FRAMINGS = ["content-length", "chunked"]


def _framed(body: bytes, framing: str) -> bytes | Iterator[bytes]:
    # httpx sends an iterator with Transfer-Encoding: chunked and no Content-Length.
    return _chunks(body) if framing == "chunked" else body


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("body", list(OVERSIZED_BODIES.values()), ids=list(OVERSIZED_BODIES))
def test_an_oversized_json_body_is_too_large_however_framed(
    client: httpx.Client, user_auth: dict[str, str], body: Callable[[], bytes], framing: str
) -> None:
    # No Content-Length to trust with chunked framing: the limit holds for the bytes actually sent.
    before = client.get("/api/items").json()["total"]
    headers = {**user_auth, "Content-Type": "application/json"}
    response = client.post("/api/items", content=_framed(body(), framing), headers=headers)
    assert_error(response, "payload_too_large")
    assert client.get("/api/items").json()["total"] == before


@pytest.mark.parametrize("framing", FRAMINGS)
def test_an_oversized_form_body_is_too_large_however_framed(client: httpx.Client, framing: str) -> None:
    body = b"username=" + b"x" * (ONE_MIB + 1) + b"&password=x"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/api/auth/token", content=_framed(body, framing), headers=headers)
    assert_error(response, "payload_too_large")


def test_a_small_chunked_body_is_read_or_refused_with_411(
    client: httpx.Client, user_auth: dict[str, str]
) -> None:
    # A server that reads chunked bodies reads the whole body; one that does not says so (411), never
    # taking the body for an empty or a malformed one (docs/contract.md says which app does which).
    before = client.get("/api/items").json()["total"]
    item = {"name": "Chunked", "description": "x" * 1000, "price": 3.5, "quantity": 2}
    headers = {**user_auth, "Content-Type": "application/json"}
    body = _chunks(json.dumps(item).encode(), size=100)  # 11 chunks
    response = client.post("/api/items", content=body, headers=headers)
    if response.status_code == 411:
        assert_error(response, "length_required")
        assert client.get("/api/items").json()["total"] == before
        return
    assert response.status_code == 201, response.text
    stored = client.get(f"/api/items/{response.json()['id']}").json()
    assert {name: stored[name] for name in item} == item


def test_an_oversized_form_body_is_too_large(client: httpx.Client) -> None:
    oversized = {"username": "x" * (ONE_MIB + 1), "password": "x"}
    assert_error(client.post("/api/auth/token", data=oversized), "payload_too_large")


# Numbers far beyond 64 bits, in URLs that stay below the servers' request-line limit (4 kB for gunicorn).
HUGE = "9" * 1000


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_huge_paging_numbers(client: httpx.Client, name: str) -> None:
    response = client.get("/api/items", params={name: HUGE})
    if name == "limit":
        assert_error(response, "validation_error", fields=("limit",))
    else:
        # offset has no upper bound in the contract: an empty page or a 422 are both answers.
        assert_handled(response, allowed=(200, 422))


@pytest.mark.parametrize(("path", "name"), [("/queries", "queries"), ("/updates", "queries"), ("/io", "ms")])
def test_huge_numbers_are_clamped(client: httpx.Client, path: str, name: str) -> None:
    assert_handled(client.get(path, params={name: HUGE}), allowed=(200,))
