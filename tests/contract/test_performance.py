"""The performance endpoints (plaintext, json, db, queries, updates), /health, and the headers every response
carries. Fortunes, the template test, has its own module."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from stored_rows import read_random_numbers
from targets import AppServer

from apps.seed_data import RANDOM_MAX, WORLD_ROWS


def assert_world_row(row: Any) -> None:
    assert isinstance(row, dict), row
    assert set(row) == {"id", "randomNumber"}, row
    assert type(row["id"]) is int and 1 <= row["id"] <= WORLD_ROWS, row
    assert type(row["randomNumber"]) is int and 1 <= row["randomNumber"] <= RANDOM_MAX, row


def test_plaintext(client: httpx.Client) -> None:
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == b"Hello, World!"


def test_json(client: httpx.Client) -> None:
    response = client.get("/json")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == {"message": "Hello, World!"}


def test_db_answers_a_row_as_stored(client: httpx.Client, app_server: AppServer) -> None:
    response = client.get("/db")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    row = response.json()
    assert_world_row(row)
    assert read_random_numbers(app_server.database_url, [row["id"]]) == {row["id"]: row["randomNumber"]}


@pytest.mark.parametrize("endpoint", ["/queries", "/updates"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 1), ("", 1), ("foo", 1), ("0", 1), ("-1", 1), ("1", 1), ("20", 20), ("500", 500), ("501", 500)],
)
def test_queries_count_is_clamped(
    client: httpx.Client, endpoint: str, raw: str | None, expected: int
) -> None:
    params = {} if raw is None else {"queries": raw}
    response = client.get(endpoint, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    rows = response.json()
    assert isinstance(rows, list)
    assert len(rows) == expected
    for row in rows:
        assert_world_row(row)


def test_updates_persist_the_values_they_answer(client: httpx.Client, app_server: AppServer) -> None:
    response = client.get("/updates", params={"queries": 20})
    assert response.status_code == 200
    rows = response.json()
    # A row drawn twice in one request is updated twice; only rows drawn once have one expected value.
    drawn = [row["id"] for row in rows]
    answered = {row["id"]: row["randomNumber"] for row in rows if drawn.count(row["id"]) == 1}
    assert read_random_numbers(app_server.database_url, answered) == answered


def test_queries_reads_rows_as_stored(client: httpx.Client, app_server: AppServer) -> None:
    rows = client.get("/queries", params={"queries": 10}).json()
    stored = read_random_numbers(app_server.database_url, [row["id"] for row in rows])
    assert {row["id"]: row["randomNumber"] for row in rows} == stored


def test_health(client: httpx.Client, app_server: AppServer) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "framework": app_server.name}


HEADER_PROBES = [
    ("GET", "/plaintext"),
    ("GET", "/json"),
    ("GET", "/db"),
    ("GET", "/queries?queries=2"),
    ("GET", "/updates?queries=2"),
    ("GET", "/fortunes"),
    ("GET", "/health"),
    ("GET", "/io?ms=0"),
    ("GET", "/io?ms=abc"),
    ("GET", "/api/items"),
    ("GET", "/api/items/1"),
    ("GET", "/api/items/999999"),
    ("GET", "/api/me"),
    ("GET", "/api/no-such-route"),
    ("DELETE", "/api/items"),
    ("POST", "/api/items"),
    ("GET", "/login"),
    ("GET", "/items/"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
]


@pytest.mark.parametrize(("method", "path"), HEADER_PROBES)
def test_every_response_has_date_server_and_content_type(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code < 500, response.text
    assert "server" in response.headers, response.headers
    assert response.headers["server"].strip(), response.headers
    assert parsedate_to_datetime(response.headers["date"]) is not None, response.headers
    if response.content:
        assert response.headers.get("content-type"), response.headers
