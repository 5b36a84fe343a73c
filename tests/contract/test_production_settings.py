"""Production settings: no access log, debug off, no stack trace in any response."""

from __future__ import annotations

import uuid

import httpx
import pytest
from targets import AppServer

DEBUG_PAGE_MARKERS = ("Traceback", "DEBUG = True", "Werkzeug Debugger", "stack trace", 'File "/')


def test_requests_are_not_logged(client: httpx.Client, app_server: AppServer) -> None:
    probe = uuid.uuid4().hex
    for path in ("/plaintext", "/api/items", "/no-such-page"):
        client.get(path, params={"probe": probe})
    # Later requests give a buffered access line time to reach the log before it is read.
    for _ in range(20):
        client.get("/plaintext")
    assert probe not in app_server.running.log_path.read_text(errors="replace")


@pytest.mark.parametrize(
    "path", ["/no-such-page", "/items/not-a-number", "/admin/no-such-page", "/static/nope.js"]
)
def test_error_pages_show_no_debug_information(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500, response.text[:1000]
    for marker in DEBUG_PAGE_MARKERS:
        assert marker not in response.text, f"{path}: {marker!r} in {response.text[:1000]}"
