"""The performance endpoints (plaintext, json, db, queries, updates), /health, and the headers every response
carries. Fortunes, the template test, has its own module."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
import statements
from stored_rows import read_random_numbers, world_table
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


def test_queries_reads_distinct_rows_as_stored(client: httpx.Client, app_server: AppServer) -> None:
    rows = client.get("/queries", params={"queries": 500}).json()
    ids = [row["id"] for row in rows]
    # Drawn with repetition, 500 of 10,000 ids would repeat one with a probability of 1 - 4e-6.
    assert len(set(ids)) == len(ids) == 500, "ids drawn twice in one request"
    stored = read_random_numbers(app_server.database_url, ids)
    assert {row["id"]: row["randomNumber"] for row in rows} == stored


def test_updates_write_every_row_they_answer(client: httpx.Client, app_server: AppServer) -> None:
    before = read_random_numbers(app_server.database_url)
    response = client.get("/updates", params={"queries": 500})
    assert response.status_code == 200
    rows = response.json()
    answered = {row["id"]: row["randomNumber"] for row in rows}
    assert len(answered) == len(rows) == 500, "ids drawn twice in one request"
    assert read_random_numbers(app_server.database_url, answered) == answered
    unchanged = sorted(row_id for row_id, number in answered.items() if before[row_id] == number)
    assert not unchanged, f"rows given their old number, so not written: {unchanged}"


# The statements of each request on PostgreSQL, the same in every app (docs/contract.md, "SQL per request"):
# reads in autocommit (no BEGIN, no COMMIT, no ROLLBACK), one SELECT per row; /updates in one transaction
# from its first read to its commit; nothing prepared, except by a driver that prepares everything (asyncpg).
# The frameworks whose documented way to write many rows with different values is one statement for all
# of them (Django's bulk_update: "Update in bulk", topics/db/optimization); the others send one UPDATE a row.
ONE_UPDATE_FOR_ALL_ROWS = frozenset({"django"})


@pytest.mark.postgres_only
def test_db_sends_one_select_in_autocommit(client: httpx.Client, app_server: AppServer) -> None:
    counted = statements.count_request(client, app_server, "/db", table=world_table(app_server.database_url))
    expected = statements.autocommit_reads(
        selects=1, rows=1, prepared=statements.driver_prepares(app_server.driver)
    )
    assert counted == expected, "\n".join(counted.log)


@pytest.mark.postgres_only
@pytest.mark.parametrize("count", [1, 20])
def test_queries_sends_one_select_per_row_in_autocommit(
    client: httpx.Client, app_server: AppServer, count: int
) -> None:
    counted = statements.count_request(
        client,
        app_server,
        f"/queries?queries={count}",
        table=world_table(app_server.database_url),
    )
    expected = statements.autocommit_reads(
        selects=count, rows=count, prepared=statements.driver_prepares(app_server.driver)
    )
    assert counted == expected, "\n".join(counted.log)


@pytest.mark.postgres_only
@pytest.mark.parametrize("count", [1, 20])
def test_updates_reads_and_writes_every_row_in_one_transaction(
    client: httpx.Client, app_server: AppServer, count: int
) -> None:
    counted = statements.count_request(
        client,
        app_server,
        f"/updates?queries={count}",
        table=world_table(app_server.database_url),
    )
    expected = statements.Statements(
        begins=1,
        commits=1,
        rollbacks=0,
        selects=count,
        selected_rows=count,
        updates=1 if app_server.spec.framework in ONE_UPDATE_FOR_ALL_ROWS else count,
        updated_rows=count,
        others=0,
        order=("BEGIN", "SELECT", "UPDATE", "COMMIT"),
        prepared=statements.driver_prepares(app_server.driver),
    )
    assert counted == expected, "\n".join(counted.log)


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
    # The body's end is framed: a length, or chunks (204 and 304 carry neither: they have no body).
    if response.status_code not in (204, 304):
        framed = "content-length" in response.headers
        chunked = "chunked" in response.headers.get("transfer-encoding", "").lower()
        assert framed or chunked, response.headers


DATE_CHANGE_WAIT_S = 10.0


def test_the_date_header_is_the_time_of_each_response(client: httpx.Client) -> None:
    first = parsedate_to_datetime(client.get("/plaintext").headers["date"])
    assert abs(first - datetime.now(UTC)) < timedelta(minutes=1), first
    # Date has a resolution of a second; a server may cache it for that long, not longer.
    deadline = time.monotonic() + DATE_CHANGE_WAIT_S
    later = first
    while later == first and time.monotonic() < deadline:
        time.sleep(0.25)
        later = parsedate_to_datetime(client.get("/plaintext").headers["date"])
    assert later > first, f"Date stayed {first} for {DATE_CHANGE_WAIT_S} s"
