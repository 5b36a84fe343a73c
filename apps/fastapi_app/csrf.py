"""CSRF protection for the HTML forms: a synchronizer token kept in the signed session cookie.

The session holds a random token; every form carries it in a hidden input; every state-changing
form POST must send it back. The cookie is signed, so a client cannot choose the session's copy,
and another site cannot read the page to learn it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Form, HTTPException, Request, status

CSRF_SESSION_KEY = "csrf_token"
CSRF_FIELD_NAME = "csrf_token"


def get_csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating it on first use."""
    token: str | None = request.session.get(CSRF_SESSION_KEY)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


async def verify_csrf_token(
    request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD_NAME)] = ""
) -> None:
    """Reject the request with 403 unless the form's token matches the session's."""
    expected: str | None = request.session.get(CSRF_SESSION_KEY)
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="CSRF token missing or invalid")
