"""Authentication: the OAuth2 token endpoint and /api/me (bearer JWT), the session login pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm

from apps.fastapi_app.csrf import verify_csrf_token
from apps.fastapi_app.deps import (
    SESSION_USER_KEY,
    TOKEN_URL,
    CurrentUser,
    DbSession,
    not_authenticated,
)
from apps.fastapi_app.errors import error_responses
from apps.fastapi_app.schemas import Token, UserOut
from apps.fastapi_app.security import authenticate_user, create_access_token
from apps.fastapi_app.templating import templates

LOGIN_URL = "/login"
AFTER_LOGIN_URL = "/items/"

api_router = APIRouter(tags=["auth"])
pages_router = APIRouter(include_in_schema=False)


@api_router.post(TOKEN_URL, responses=error_responses(400, 401, 413, 422))
async def create_token(session: DbSession, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange a username and password (OAuth2 password grant) for a bearer token."""
    user = await authenticate_user(session, username=form.username, password=form.password)
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
    session: DbSession,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = AFTER_LOGIN_URL,
) -> Response:
    """Start a session for valid credentials; show the form again with an error otherwise."""
    user = await authenticate_user(session, username=username, password=password)
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
