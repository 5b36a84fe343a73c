"""Authentication: the OAuth2 token endpoint and /api/me (bearer JWT), the session login pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from apps.fastapi_app.csrf import verify_csrf_token
from apps.fastapi_app.deps import (
    SESSION_USER_KEY,
    TOKEN_URL,
    CurrentUser,
    not_authenticated,
    require_form_body,
)
from apps.fastapi_app.errors import error_responses
from apps.fastapi_app.models import User
from apps.fastapi_app.orm_mode import with_db_session
from apps.fastapi_app.schemas import Token, TokenRequest, UserOut
from apps.fastapi_app.security import authenticate_user, create_access_token, read_user_by_username
from apps.fastapi_app.templating import templates

LOGIN_URL = "/login"
AFTER_LOGIN_URL = "/items/"

api_router = APIRouter(tags=["auth"])
pages_router = APIRouter(include_in_schema=False)


# A login reads the user in a dependency (the database part, in the ORM mode's form) and checks the
# password in the endpoint: the hash check is awaited off the event loop, one at a time, in both modes.
@dataclass(frozen=True)
class LoginAttempt:
    """The password of a login form, and the user its username names (None for an unknown name)."""

    user: User | None
    password: str


@with_db_session
def read_token_attempt(session: Session, form: Annotated[TokenRequest, Form()]) -> LoginAttempt:
    """Return the login attempt of an OAuth2 password grant."""
    return LoginAttempt(user=read_user_by_username(session, form.username), password=form.password)


@with_db_session
def read_login_attempt(
    session: Session,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> LoginAttempt:
    """Return the login attempt of the /login form."""
    return LoginAttempt(user=read_user_by_username(session, username), password=password)


@api_router.post(
    TOKEN_URL,
    dependencies=[Depends(require_form_body)],
    responses=error_responses(400, 401, 413, 415, 422),
)
async def create_token(attempt: Annotated[LoginAttempt, Depends(read_token_attempt)]) -> Token:
    """Exchange a username and password (OAuth2 password grant) for a bearer token."""
    user = await authenticate_user(attempt.user, password=attempt.password)
    if user is None:
        raise not_authenticated()
    return Token(access_token=create_access_token(user))


@api_router.get("/api/me", responses=error_responses(401))
async def read_me(user: CurrentUser) -> UserOut:
    """Return the user the bearer token was issued for."""
    return UserOut.model_validate(user)


def _safe_next_url(next_url: str) -> str:
    # Only a path on this site: "//host" or "/\host" would send the browser elsewhere.
    if next_url.startswith("/") and not next_url.startswith(("//", "/\\")):
        return next_url
    return AFTER_LOGIN_URL


@pages_router.get(LOGIN_URL, response_class=HTMLResponse)
async def read_login_form(
    request: Request, next_url: Annotated[str, Query(alias="next")] = AFTER_LOGIN_URL
) -> HTMLResponse:
    """Show the login form."""
    return templates.TemplateResponse(
        request, "login.html", {"next_url": _safe_next_url(next_url), "error": None}
    )


@pages_router.post(LOGIN_URL, dependencies=[Depends(verify_csrf_token)])
async def log_in(
    request: Request,
    attempt: Annotated[LoginAttempt, Depends(read_login_attempt)],
    next_url: Annotated[str, Form(alias="next")] = AFTER_LOGIN_URL,
) -> Response:
    """Start a session for valid credentials; show the form again with an error otherwise."""
    user = await authenticate_user(attempt.user, password=attempt.password)
    if user is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next_url": _safe_next_url(next_url), "error": "Invalid username or password."},
        )
    # A fresh session (and so a fresh CSRF token) for the logged-in user.
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    return RedirectResponse(_safe_next_url(next_url), status_code=status.HTTP_303_SEE_OTHER)


@pages_router.post("/logout", dependencies=[Depends(verify_csrf_token)])
async def log_out(request: Request) -> RedirectResponse:
    """End the session."""
    request.session.clear()
    return RedirectResponse(LOGIN_URL, status_code=status.HTTP_303_SEE_OTHER)
