"""Single query: GET /db, one random World row read through the ORM."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import fail, is_world_row, json_body

NAME = "db"
TABLE_ROW = "orm"
WRITES = False
YARDSTICK_PATH = "/db"  # what wrk requests for the yardstick
PER_DATABASE = True  # a database row: measured on every database of the profile


class DbUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def read_world(self) -> None:
        with self.client.get(YARDSTICK_PATH, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is not None and not is_world_row(body):
                fail(response, "not a World row")
