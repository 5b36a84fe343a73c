"""Updates: GET /updates?queries=20, twenty rows read and written back with new random numbers."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import WRITE_LOG, fail, is_world_row, json_body

NAME = "updates"
TABLE_ROW = "orm"
WRITES = True
PER_DATABASE = True  # a database row: measured on every database of the profile

QUERIES = 20


class UpdatesUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def update_worlds(self) -> None:
        with (
            WRITE_LOG.unless_answered(lambda: WRITE_LOG.world_update_failed(QUERIES)),
            self.client.get(f"/updates?queries={QUERIES}", catch_response=True) as response,
        ):
            body = json_body(response, status=200)
            if isinstance(body, list) and len(body) == QUERIES and all(is_world_row(row) for row in body):
                for row in body:
                    WRITE_LOG.world_updated(row["id"], row["randomNumber"])
                return
            if body is not None:
                fail(response, f"expected a list of {QUERIES} World rows")
            WRITE_LOG.world_update_failed(QUERIES)
