"""Authentication, using a token: GET /api/me with a bearer JWT (its signature checked, its user read).

The token is issued once per process at start; issuing tokens (password hashing) is scenario `auth`.
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from apps.seed_data import USER_USERNAME
from bench.scenarios.common import fail, json_body, shared_token

NAME = "me"
TABLE_ROW = "authentication"
WRITES = False


class MeUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME

    def on_start(self) -> None:
        self.auth_headers = {"Authorization": f"Bearer {shared_token(self, username=self.username)}"}

    @task
    def read_me(self) -> None:
        with self.client.get("/api/me", headers=self.auth_headers, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is not None and (
                not isinstance(body, dict) or body.get("username") != self.username or body.get("is_staff")
            ):
                fail(response, "wrong user")
