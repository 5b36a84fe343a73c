"""Plaintext: GET /plaintext, the framework's bare request/response overhead."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import content_type, fail

NAME = "plaintext"
TABLE_ROW = "performance"
WRITES = False
YARDSTICK_PATH = "/plaintext"  # what wrk requests for the yardstick

EXPECTED_BODY = b"Hello, World!"


class PlaintextUser(FastHttpUser):
    wait_time = constant(0)  # closed loop: each user sends its next request as soon as it has an answer

    @task
    def read_plaintext(self) -> None:
        with self.client.get(YARDSTICK_PATH, catch_response=True) as response:
            if response.status_code != 200:
                fail(response, f"expected 200, got {response.status_code}")
            elif not content_type(response).startswith("text/plain"):
                fail(response, "expected text/plain")
            elif response.content != EXPECTED_BODY:
                fail(response, "wrong body")
