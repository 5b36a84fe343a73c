"""Authentication, token issuing: POST /api/auth/token, one argon2id password check per request.

Its requests/s is the app's password checks per second; reading the API with the token is scenario `me`.
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task

from apps.seed_data import USER_USERNAME
from bench.scenarios.common import TOKEN_PATH, fail, json_body, password_of

NAME = "auth"
TABLE_ROW = "authentication"
WRITES = False


class AuthUser(FastHttpUser):
    wait_time = constant(0)
    username = USER_USERNAME

    @task
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
