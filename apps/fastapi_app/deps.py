"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from apps.fastapi_app.errors import LoginRequiredError
from apps.fastapi_app.models import User
from apps.fastapi_app.orm_mode import with_db_session
from apps.fastapi_app.schemas import MAX_INTEGER
from apps.fastapi_app.security import user_id_from_token

TOKEN_URL = "/api/auth/token"
SESSION_USER_KEY = "user_id"
JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL)

ItemId = Annotated[int, Path(ge=1, le=MAX_INTEGER)]
BearerToken = Annotated[str, Depends(oauth2_scheme)]


def not_authenticated() -> HTTPException:
    """Return the 401 of a missing or invalid bearer token."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail="Not authenticated",
        headers={"WWW-Authenticate": "Bearer"},
    )


@with_db_session
def get_current_user(session: Session, token: BearerToken) -> User:
    """Return the user of the request's bearer token, or answer 401."""
    user_id = user_id_from_token(token)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise not_authenticated()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@with_db_session
def get_session_user(session: Session, request: Request) -> User:
    """Return the user logged in through /login, or send the visitor there."""
    user_id = request.session.get(SESSION_USER_KEY)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise LoginRequiredError
    return user


SessionUser = Annotated[User, Depends(get_session_user)]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def require_form_body(request: Request) -> None:
    """Answer 415 unless the request body is declared as a URL-encoded form (the OAuth2 password grant)."""
    if _media_type(request) != FORM_MEDIA_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail="Send a form")


async def require_json_body(request: Request) -> None:
    """Answer 415 unless the request body is declared as JSON."""
    media_type = _media_type(request)
    if media_type != JSON_MEDIA_TYPE and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail="Send JSON")
