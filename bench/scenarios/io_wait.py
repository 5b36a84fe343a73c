"""Async I/O: GET /io?ms=50, a simulated 50 ms upstream call, run at a high user count.

Here concurrency, not CPU, is the limit: an app that waits without holding a worker serves
users / 50 ms requests a second; one that blocks a thread per wait serves threads / 50 ms.
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from bench.scenarios.common import fail, json_body

NAME = "io"
TABLE_ROW = "async"
WRITES = False
# Out of the overall score: its throughput is set by the server's concurrency (threads, an event loop),
# not by the framework's cost per request, and the report shows it apart.
IN_SCORE = False
# Its headline figure comes from each app's concurrency-capable variant (`concurrent = true` in app.toml).
CONCURRENCY = True

WAIT_MS = 50


class IoUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def wait_for_io(self) -> None:
        with self.client.get(f"/io?ms={WAIT_MS}", name="/io?ms", catch_response=True) as response:
            body = json_body(response, status=200)
            if body is not None and body != {"waited_ms": WAIT_MS}:
                fail(response, "wrong body")
