"""/fortunes: the exact markup, every row plus the one added at request time, sorted by message, escaped."""

from __future__ import annotations

import html
import re

import httpx
import pytest
import statements
from stored_rows import table_named
from targets import AppServer

from apps.seed_data import ADDITIONAL_FORTUNE, FORTUNES

FORTUNES_HEAD = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body>"
    "<table><tr><th>id</th><th>message</th></tr>"
)
FORTUNES_TAIL = "</table></body></html>"
FORTUNE_ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td></tr>")


def _fortunes_markup(client: httpx.Client) -> tuple[httpx.Response, str]:
    response = client.get("/fortunes")
    assert response.status_code == 200
    # Whitespace between tags is not significant.
    return response, re.sub(r">\s+<", "><", response.text.strip())


def test_fortunes_markup(client: httpx.Client) -> None:
    response, markup = _fortunes_markup(client)
    assert response.headers["content-type"].replace(" ", "").lower() == "text/html;charset=utf-8"
    assert markup.startswith(FORTUNES_HEAD), markup[:300]
    assert markup.endswith(FORTUNES_TAIL), markup[-300:]
    rows_markup = markup[len(FORTUNES_HEAD) : -len(FORTUNES_TAIL)]
    assert FORTUNE_ROW.sub("", rows_markup) == "", f"unexpected markup between rows: {rows_markup}"


def test_fortunes_are_all_rows_plus_one_sorted_by_message(client: httpx.Client) -> None:
    _, markup = _fortunes_markup(client)
    rows = [
        (int(html.unescape(cell_id)), html.unescape(message))
        for cell_id, message in FORTUNE_ROW.findall(markup)
    ]
    expected = sorted([*FORTUNES, (0, ADDITIONAL_FORTUNE)], key=lambda fortune: fortune[1])
    assert rows == expected


def test_fortunes_are_escaped(client: httpx.Client) -> None:
    response, _ = _fortunes_markup(client)
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(" in response.text
    # The Japanese fortune is text, not character references.
    assert "フレームワークのベンチマーク" in response.text


@pytest.mark.postgres_only
def test_fortunes_sends_one_select_in_autocommit(client: httpx.Client, app_server: AppServer) -> None:
    """The same statements in every app (docs/contract.md, "SQL per request")."""
    counted = statements.count_request(
        client,
        app_server,
        "/fortunes",
        table=table_named(app_server.database_url, suffix="fortune"),
    )
    expected = statements.autocommit_reads(
        selects=1, rows=len(FORTUNES), prepared=statements.driver_prepares(app_server.driver)
    )
    assert counted == expected, "\n".join(counted.log)
