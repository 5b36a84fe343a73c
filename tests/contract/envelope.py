"""The error envelope of /api (and of /io's 422): {"error": CODE} plus "fields" for validation errors."""

from __future__ import annotations

from typing import Any

import httpx

ERROR_STATUS = {
    "validation_error": 422,
    "bad_request": 400,
    "unsupported_media_type": 415,
    "payload_too_large": 413,
    "length_required": 411,
    "not_authenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
}


def assert_error(response: httpx.Response, code: str, *, fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Assert that response is the envelope of code (its status, JSON body, named fields); return the body."""
    expected_status = ERROR_STATUS[code]
    assert response.status_code == expected_status, (
        f"{response.request.method} {str(response.request.url)[:300]}: expected {expected_status} {code}, "
        f"got {response.status_code}: {response.text[:1000]}"
    )
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert isinstance(body, dict), body
    assert body.get("error") == code, body
    if code == "validation_error":
        named = body.get("fields")
        assert isinstance(named, dict), body
        for name, messages in named.items():
            assert isinstance(name, str), body
            assert isinstance(messages, list), body
            assert messages, body
            assert all(isinstance(message, str) and message for message in messages), body
        missing = [name for name in fields if name not in named]
        assert not missing, f"fields {missing} not named in {body}"
    if code == "not_authenticated":
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.lower().startswith("bearer"), f"WWW-Authenticate: {challenge!r}"
    assert "Traceback" not in response.text
    return body
