"""Authentication: POST /api/auth/token (password hashing included) and GET /api/me with the token."""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from apps.seed_data import USER_USERNAME
from bench.scenarios.common import TOKEN_PATH, fail, json_body, password_of, shared_token

NAME = "auth"
TABLE_ROW = "authentication"
WRITES = False


class AuthUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME

    def on_start(self) -> None:
        self.auth_headers = {"Authorization": f"Bearer {shared_token(self, username=self.username)}"}

    @task(1)
    def issue_token(self) -> None:
        credentials = {"username": self.username, "password": password_of(self.username)}
        with self.client.post(TOKEN_PATH, data=credentials, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is None:
                return
            if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
                fail(response, "no access_token")
            elif str(body.get("token_type", "")).lower() != "bearer":
                fail(response, "token_type is not bearer")

    @task(3)
    def read_me(self) -> None:
        with self.client.get("/api/me", headers=self.auth_headers, catch_response=True) as response:
            body = json_body(response, status=200)
            if body is not None and (
                not isinstance(body, dict) or body.get("username") != self.username or body.get("is_staff")
            ):
                fail(response, "wrong user")
