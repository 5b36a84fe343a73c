"""Fortunes: GET /fortunes, rows from the database sorted and rendered by the template engine."""

from __future__ import annotations

import re

from locust import FastHttpUser, constant, task

from bench.scenarios.common import fail, html_body

NAME = "fortunes"
TABLE_ROW = "templates"
WRITES = False
YARDSTICK_PATH = "/fortunes"  # what wrk requests for the yardstick
PER_DATABASE = True  # a database row: measured on every database of the profile

ROWS = 13  # the 12 seeded fortunes and the one added at request time
ADDED_AT_REQUEST_TIME = "Additional fortune added at request time."
ESCAPED_SCRIPT = "&lt;script&gt;"
TABLE_ROW_TAG = re.compile(r"<tr>\s*<td>")


class FortunesUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def read_fortunes(self) -> None:
        with self.client.get(YARDSTICK_PATH, catch_response=True) as response:
            html = html_body(response)
            if html is None:
                return
            if len(TABLE_ROW_TAG.findall(html)) != ROWS:
                fail(response, f"expected {ROWS} fortune rows")
            elif ADDED_AT_REQUEST_TIME not in html:
                fail(response, "the fortune added at request time is missing")
            elif ESCAPED_SCRIPT not in html or "<script>" in html:
                fail(response, "the <script> fortune is not escaped")
