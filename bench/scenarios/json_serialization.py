"""JSON serialization: GET /json, an object built and serialized per request."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import fail, json_body

NAME = "json"
TABLE_ROW = "performance"
WRITES = False
YARDSTICK_PATH = "/json"  # what wrk requests for the yardstick

EXPECTED = {"message": "Hello, World!"}


class JsonUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def read_json(self) -> None:
        with self.client.get(YARDSTICK_PATH, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is not None and body != EXPECTED:
                fail(response, "wrong body")
