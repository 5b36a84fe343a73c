"""Authentication: argon2id password hashing, the JWT bearer token of /api, the session login.

The API authenticates bearer tokens only; the HTML site uses Flask-Login on Flask's signed-cookie
session.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from flask_smorest import abort
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from apps import seed_data
from apps.flask_app.errors import ApiBlueprint, error_responses
from apps.flask_app.extensions import db, login_manager
from apps.flask_app.models import MAX_INTEGER, User, is_storable_text
from apps.flask_app.schemas import TokenRequestSchema, TokenSchema, UserSchema

P = ParamSpec("P")
R = TypeVar("R")

TOKEN_LIFETIME = timedelta(hours=1)
JWT_ALGORITHM = "HS256"
BEARER_SCHEME_NAME = "bearerAuth"
BEARER_SECURITY = [{BEARER_SCHEME_NAME: []}]
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# A subject as create_access_token writes it: a decimal id in ASCII digits, no sign, no leading zero.
SUBJECT_PATTERN = re.compile(r"[1-9][0-9]{0,18}")

password_hasher = PasswordHasher(
    time_cost=seed_data.ARGON2_TIME_COST,
    memory_cost=seed_data.ARGON2_MEMORY_COST,
    parallelism=seed_data.ARGON2_PARALLELISM,
    type=Type.ID,
)


def hash_password(password: str) -> str:
    """Return the argon2id hash of password."""
    return password_hasher.hash(password)


@functools.cache
def _unknown_user_hash() -> str:
    return password_hasher.hash("no such user")


def authenticate(*, username: str, password: str) -> User | None:
    """Return the user with these credentials, or None."""
    user = None
    # No username holds a NUL, and PostgreSQL would refuse to compare with one.
    if is_storable_text(username):
        user = db.session.execute(select(User).filter_by(username=username)).scalar_one_or_none()
    # Verify against a stand-in hash for unknown names too, so timing does not tell them apart.
    password_hash = user.password_hash if user is not None else _unknown_user_hash()
    try:
        password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


# --- Bearer tokens (the JSON API) --------------------------------------------------------------


def create_access_token(user: User) -> str:
    """Return a signed JWT naming user, valid for TOKEN_LIFETIME."""
    issued_at = datetime.now(UTC)
    claims = {"sub": str(user.id), "iat": issued_at, "exp": issued_at + TOKEN_LIFETIME}
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=JWT_ALGORITHM)


def user_id_from_subject(subject: object) -> int | None:
    """Return the user id a token's `sub` claim names, or None when it cannot name a user."""
    if not isinstance(subject, str) or SUBJECT_PATTERN.fullmatch(subject) is None:
        return None
    user_id = int(subject)
    # Larger ids cannot exist, and SQLite cannot even bind integers past 2**63.
    return user_id if user_id <= MAX_INTEGER else None


def user_from_bearer_token() -> User:
    """Return the user named by the request's bearer token; abort with 401 when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(HTTPStatus.UNAUTHORIZED)
    try:
        claims = jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
    except jwt.InvalidTokenError:
        abort(HTTPStatus.UNAUTHORIZED)
    user_id = user_id_from_subject(claims["sub"])
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        abort(HTTPStatus.UNAUTHORIZED)
    return user


def token_required(view: Callable[P, R]) -> Callable[P, R]:
    """Make view require a valid bearer token and expose its user as g.api_user.

    Place it right under the route decorator, so that a request without a valid token learns
    nothing else (401 before validation, 403 and 404).
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        g.api_user = user_from_bearer_token()
        return view(*args, **kwargs)

    return wrapper


api_blp = ApiBlueprint("auth", __name__, url_prefix="/api", description="Bearer tokens")


def form_body_required(view: Callable[P, R]) -> Callable[P, R]:
    """Answer 415 unless the body is a URL-encoded form: webargs would read another as no fields (422)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if request.mimetype != FORM_MEDIA_TYPE:
            abort(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        return view(*args, **kwargs)

    return wrapper


@api_blp.post("/auth/token")
@form_body_required
@api_blp.arguments(TokenRequestSchema, location="form")
@api_blp.doc(
    responses=error_responses(
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    )
)
@api_blp.response(HTTPStatus.OK, TokenSchema)
def create_token(credentials: dict[str, str]) -> dict[str, str]:
    """Exchange a username and password for a bearer token (OAuth2 password grant)."""
    user = authenticate(username=credentials["username"], password=credentials["password"])
    if user is None:
        abort(HTTPStatus.UNAUTHORIZED)
    return {"access_token": create_access_token(user), "token_type": "bearer"}


@api_blp.get("/me")
@token_required
@api_blp.doc(security=BEARER_SECURITY, responses=error_responses(HTTPStatus.UNAUTHORIZED))
@api_blp.response(HTTPStatus.OK, UserSchema)
def read_me() -> User:
    """Return the user the bearer token names."""
    user: User = g.api_user
    return user


# --- Session login (the HTML site) -------------------------------------------------------------

blp = Blueprint("session", __name__)
login_manager.login_view = "session.login"
# The pages show no flashed messages, and a flash would write a session cookie for anonymous users.
login_manager.login_message = ""


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired()])
    password = PasswordField("Password", validators=[InputRequired()])


def _local_redirect_target(target: str | None) -> str:
    """Return target when it is a path on this site, else the item list (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("forms.list_items")


@blp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error: str | None = None
    if form.validate_on_submit():
        user = authenticate(username=form.username.data or "", password=form.password.data or "")
        if user is not None:
            login_user(user)
            return redirect(_local_redirect_target(request.args.get("next")), HTTPStatus.SEE_OTHER)
        error = "Invalid username or password."
    return render_template("login.html", form=form, error=error)


@blp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("session.login"), HTTPStatus.SEE_OTHER)
