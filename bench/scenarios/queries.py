"""Multiple queries: GET /queries?queries=20, twenty ORM queries per request."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import fail, is_world_row, json_body

NAME = "queries"
TABLE_ROW = "orm"
WRITES = False
PER_DATABASE = True  # a database row: measured on every database of the profile

QUERIES = 20
YARDSTICK_PATH = "/queries?queries=20"  # what wrk requests for the yardstick (QUERIES rows)


class QueriesUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def read_worlds(self) -> None:
        with self.client.get(YARDSTICK_PATH, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is None:
                return
            if not isinstance(body, list) or len(body) != QUERIES:
                fail(response, f"expected a list of {QUERIES} rows")
            elif not all(is_world_row(row) for row in body):
                fail(response, "not a list of World rows")
