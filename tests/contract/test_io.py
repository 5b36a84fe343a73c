"""/io: a simulated upstream call of N ms, clamped to 0..1000, with the API's envelope for bad input."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from envelope import assert_error
from targets import AppServer

CONCURRENT_CALLS = 20


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 50), ("0", 0), ("1", 1), ("-5", 0), ("200", 200), ("1000", 1000), ("5000", 1000)],
)
def test_io_waits_the_clamped_time(client: httpx.Client, raw: str | None, expected: int) -> None:
    response = client.get("/io", params={} if raw is None else {"ms": raw})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == {"waited_ms": expected}


@pytest.mark.parametrize("raw", ["", "abc", "1.5", "10ms", "1e3", "0x10"])
def test_io_rejects_what_is_not_an_integer(client: httpx.Client, raw: str) -> None:
    assert_error(client.get("/io", params={"ms": raw}), "validation_error", fields=("ms",))


def test_io_answers_concurrent_calls(app_server: AppServer) -> None:
    async def call_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=app_server.base_url, timeout=60) as client:
            return await asyncio.gather(
                *(client.get("/io", params={"ms": 200}) for _ in range(CONCURRENT_CALLS))
            )

    responses = asyncio.run(call_all())
    assert [response.status_code for response in responses] == [200] * CONCURRENT_CALLS
    assert all(response.json() == {"waited_ms": 200} for response in responses)
