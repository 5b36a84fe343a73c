"""The token endpoint, /api/me, and every way a bearer token can be missing or invalid."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from envelope import assert_error
from targets import ADMIN, USER, AppServer

# Long enough for HS256 (PyJWT warns below 32 bytes), and not the server's key.
FORGED_KEY = "forged-key-" + "x" * 53
TOKEN_LIFETIME_S = 3600


def me(client: httpx.Client, token: str) -> httpx.Response:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize(("username", "is_staff"), [(ADMIN, True), (USER, False)])
def test_me_with_a_token(
    client: httpx.Client, admin_token: str, user_token: str, username: str, is_staff: bool
) -> None:
    token = admin_token if username == ADMIN else user_token
    response = me(client, token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "username", "is_staff"}, body
    assert type(body["id"]) is int
    assert body["username"] == username
    assert body["is_staff"] is is_staff


def test_token_endpoint_answers_a_signed_jwt(client: httpx.Client, app_server: AppServer) -> None:
    response = client.post(
        "/api/auth/token", data={"username": USER, "password": app_server.password_of(USER)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"].lower() == "bearer"
    claims = jwt.decode(body["access_token"], app_server.secret_key, algorithms=["HS256"])
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    user_id = me(client, body["access_token"]).json()["id"]
    assert claims["sub"] == str(user_id)
    lifetime = claims["exp"] - claims.get("iat", time.time())
    assert TOKEN_LIFETIME_S - 120 <= lifetime <= TOKEN_LIFETIME_S + 5, claims


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": USER, "password": "wrong-password"},
        {"username": "nobody", "password": "whatever"},
        {"username": ADMIN, "password": ""},
    ],
    ids=["wrong-password", "unknown-user", "empty-password"],
)
def test_token_endpoint_rejects_wrong_credentials(client: httpx.Client, credentials: dict[str, str]) -> None:
    response = client.post("/api/auth/token", data=credentials)
    if credentials["password"] == "":
        # An empty field is invalid (minLength 1 in the document), before any credential check.
        assert_error(response, "validation_error", fields=("password",))
    else:
        assert_error(response, "not_authenticated")


def _claims(user_id: int, *, expires_in_s: int) -> dict[str, object]:
    now = int(time.time())
    return {"sub": str(user_id), "iat": now - TOKEN_LIFETIME_S, "exp": now + expires_in_s}


@pytest.fixture
def user_id(client: httpx.Client, user_token: str) -> int:
    value: int = me(client, user_token).json()["id"]
    return value


def test_me_rejects_no_token(client: httpx.Client) -> None:
    assert_error(client.get("/api/me"), "not_authenticated")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjp1c2VyLXBhc3N3b3Jk", "Token abc"],
)
def test_me_rejects_malformed_authorization(client: httpx.Client, authorization: str) -> None:
    assert_error(client.get("/api/me", headers={"Authorization": authorization}), "not_authenticated")


def test_me_rejects_an_expired_token(client: httpx.Client, app_server: AppServer, user_id: int) -> None:
    token = jwt.encode(_claims(user_id, expires_in_s=-60), app_server.secret_key, algorithm="HS256")
    assert_error(me(client, token), "not_authenticated")


def test_me_rejects_a_forged_token(client: httpx.Client, user_id: int) -> None:
    token = jwt.encode(_claims(user_id, expires_in_s=600), FORGED_KEY, algorithm="HS256")
    assert_error(me(client, token), "not_authenticated")


def test_me_rejects_an_unsigned_token(client: httpx.Client, user_id: int) -> None:
    token = jwt.encode(_claims(user_id, expires_in_s=600), None, algorithm="none")
    assert_error(me(client, token), "not_authenticated")


def test_me_rejects_a_token_of_no_user(client: httpx.Client, app_server: AppServer) -> None:
    token = jwt.encode(_claims(987654, expires_in_s=600), app_server.secret_key, algorithm="HS256")
    assert_error(me(client, token), "not_authenticated")


# Subjects no token of the server carries (it writes the user's id as a decimal string), each signed with the
# server's key: past every signature check, they must still name no user. The integers are beyond any id
# column (2**31, 2**63, far beyond 64 bits and beyond int()'s digit limit), the strings are numbers written
# otherwise than the server writes ids, or no number at all.
ODD_SUBJECTS: dict[str, object] = {
    "int32-overflow": str(2**31),
    "int64-overflow": str(2**63),
    "huge-int": str(10**30),
    "over-int-digit-limit": "9" * 5000,
    "negative": "-1",
    "zero": "0",
    "non-numeric": "abc",
    "float-string": "1.5",
    "exponent": "1e3",
    "empty": "",
    "spaces": " 1 ",
    "plus-sign": "+1",
    "leading-zero": "01",
    "underscore": "1_0",
    "non-ascii-digit": "\u0661",  # ARABIC-INDIC DIGIT ONE, which int() reads as 1
    "nul": "1\x00",
    "json-integer": 1,
    "json-huge-integer": 10**30,
    "json-float": 1.0,
    "json-true": True,
    "json-null": None,
    "list": ["1"],
    "object": {"id": "1"},
}


@pytest.mark.parametrize("subject", list(ODD_SUBJECTS.values()), ids=list(ODD_SUBJECTS))
def test_me_rejects_a_signed_token_whose_subject_names_no_user(
    client: httpx.Client, app_server: AppServer, subject: object
) -> None:
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + 600}
    token = jwt.encode(claims, app_server.secret_key, algorithm="HS256")
    assert_error(me(client, token), "not_authenticated")
    response = client.post(
        "/api/items", json={"name": "Odd subject", "price": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, "not_authenticated")


def test_a_token_signed_with_the_key_is_accepted(
    client: httpx.Client, app_server: AppServer, user_id: int
) -> None:
    # The counterpart of the expired-token test: the same claims, still valid, pass.
    token = jwt.encode(_claims(user_id, expires_in_s=600), app_server.secret_key, algorithm="HS256")
    assert me(client, token).json()["id"] == user_id


def test_a_session_cookie_does_not_authenticate_the_api(user_browser: httpx.Client) -> None:
    assert user_browser.get("/items/").status_code == 200  # the session itself is valid
    assert_error(user_browser.get("/api/me"), "not_authenticated")
    response = user_browser.post("/api/items", json={"name": "Cookie only", "price": 1})
    assert_error(response, "not_authenticated")


def test_token_endpoint_takes_a_form_only(client: httpx.Client, app_server: AppServer) -> None:
    credentials = {"username": USER, "password": app_server.password_of(USER)}
    assert_error(client.post("/api/auth/token", json=credentials), "unsupported_media_type")
    as_multipart = {key: (None, value) for key, value in credentials.items()}
    multipart = client.post("/api/auth/token", files=as_multipart)
    assert_error(multipart, "unsupported_media_type")


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({"grant_type": "client_credentials"}, "grant_type"),
        ({"username": ""}, "username"),
        ({"username": "us\x00er"}, "username"),
        ({"password": "pass\x00word"}, "password"),
    ],
    ids=["grant-type", "empty-username", "nul-username", "nul-password"],
)
def test_token_endpoint_validates_its_fields(
    client: httpx.Client, app_server: AppServer, fields: dict[str, str], invalid: str
) -> None:
    # The constraints every app's OpenAPI document declares for the form (tests/contract/openapi_shape.py).
    data = {"username": USER, "password": app_server.password_of(USER), **fields}
    assert_error(client.post("/api/auth/token", data=data), "validation_error", fields=(invalid,))


def test_token_endpoint_takes_the_password_grant_type(client: httpx.Client, app_server: AppServer) -> None:
    data = {"grant_type": "password", "username": USER, "password": app_server.password_of(USER)}
    assert client.post("/api/auth/token", data=data).status_code == 200
