"""Fuzzing a bearer token's claims: whatever a validly signed token says, /api/me answers 200 or 401, not 500.

The token endpoint writes `sub` as the user's id in decimal; a token signed with the server's key (a leaked
key, another service sharing it, a bug in a client) can say anything else. Hypothesis generates subjects of
every JSON type, numeric strings of every size and odd spellings of ids; the answer is that user when the
subject is a user's id as the token endpoint writes it (the admin's and the user's must be), else a 401.
Seeded (SEED) and without an example database, so every run sends the same tokens.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
from envelope import assert_error
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from targets import AppServer

SEED = 20240101
MAX_EXAMPLES = 80
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
SUBJECTS = (
    st.integers().map(str)  # ids of every size: negative, 0, past 32 and 64 bits
    | st.integers(min_value=0, max_value=10**6).map(lambda number: f"{number:03d}")  # leading zeros
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=24)
    | st.text(alphabet="0123456789 +-_.e\u0661\x00", max_size=24)
    | JSON_SCALARS
    | st.lists(JSON_SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3)
)


def _me(client: httpx.Client, secret_key: str, subject: Any) -> httpx.Response:
    now = int(time.time())
    token = jwt.encode({"sub": subject, "iat": now, "exp": now + 600}, secret_key, algorithm="HS256")
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def is_an_id(subject: Any) -> bool:
    """Return whether subject is an id as the token endpoint writes it: ASCII digits, no sign or leading 0."""
    return (
        isinstance(subject, str) and subject.isascii() and subject.isdigit() and str(int(subject)) == subject
    )


def test_any_signed_subject_is_answered_200_or_401(
    client: httpx.Client, app_server: AppServer, user_token: str, admin_token: str
) -> None:
    user_ids = {
        client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["id"]
        for token in (user_token, admin_token)
    }
    known = {str(user_id) for user_id in user_ids}

    @seed(SEED)
    @settings(
        max_examples=MAX_EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(subject=SUBJECTS | st.sampled_from(sorted(str(user_id) for user_id in user_ids)))
    def answers_200_or_401(subject: Any) -> None:
        response = _me(client, app_server.secret_key, subject)
        # The claim in every message: the request is GET /api/me with a token signed with the server's key.
        detail = f"sub={subject!r}: {response.status_code} {response.text[:300]}"
        if is_an_id(subject) and response.status_code == 200:
            assert response.json()["id"] == int(subject), detail
        else:
            assert response.status_code == 401, detail
            assert not (isinstance(subject, str) and subject in known), f"a user's id is refused: {detail}"
            assert_error(response, "not_authenticated")

    answers_200_or_401()
