"""Password hashing (argon2id) and access tokens (JWT), shared by the API and the HTML login."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from apps import seed_data
from apps.fastapi_app.config import settings
from apps.fastapi_app.models import User
from apps.fastapi_app.schemas import MAX_INTEGER

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
JWT_ALGORITHM = "HS256"
# A subject as create_access_token writes it: a decimal id in ASCII digits, no sign, no leading zero.
SUBJECT_PATTERN = re.compile(r"[1-9][0-9]{0,18}")

password_hash = PasswordHash(
    (
        Argon2Hasher(
            time_cost=seed_data.ARGON2_TIME_COST,
            memory_cost=seed_data.ARGON2_MEMORY_COST,
            parallelism=seed_data.ARGON2_PARALLELISM,
        ),
    )
)


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password, with the parameters every app uses."""
    return password_hash.hash(password)


@cache
def _unknown_user_hash() -> str:
    return hash_password("no such user")


async def verify_password(password: str, hashed: str) -> bool:
    """Return whether the password matches the hash, checked off the event loop."""
    # In the ordinary thread pool (BENCH_THREADS threads, main.py), with no limiter of its own: as many
    # checks run at once as requests do, as in Flask's and Django's request threads.
    return await to_thread.run_sync(password_hash.verify, password, hashed)


def read_user_by_username(session: Session, username: str) -> User | None:
    """Return the user of this name, or None."""
    # No username holds NUL, and PostgreSQL would refuse to compare with one.
    if "\x00" in username:
        username = ""
    return session.scalar(select(User).where(User.username == username))


async def authenticate_user(user: User | None, *, password: str) -> User | None:
    """Return the user (read by read_user_by_username) if the password is theirs, or None."""
    # An unknown name costs a hash check too, so timing does not reveal which names exist.
    hashed = user.password_hash if user is not None else _unknown_user_hash()
    if not await verify_password(password, hashed) or user is None:
        return None
    return user


def create_access_token(user: User) -> str:
    """Return a signed JWT for the user, valid for an hour, with the user id as subject."""
    now = datetime.now(UTC)
    claims = {"sub": str(user.id), "iat": now, "exp": now + ACCESS_TOKEN_LIFETIME}
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)


def user_id_from_subject(subject: object) -> int | None:
    """Return the user id a token's `sub` claim names, or None when it cannot name a user."""
    if not isinstance(subject, str) or SUBJECT_PATTERN.fullmatch(subject) is None:
        return None
    user_id = int(subject)
    # Larger ids cannot exist, and SQLite cannot even bind integers past 2**63.
    return user_id if user_id <= MAX_INTEGER else None


def user_id_from_token(token: str) -> int | None:
    """Return the user id a valid token was issued for; None for an expired, forged or bad one."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
    except jwt.InvalidTokenError:
        return None
    return user_id_from_subject(claims["sub"])
