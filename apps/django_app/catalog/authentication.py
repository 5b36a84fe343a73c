"""Bearer tokens for the API: signed JWTs (PyJWT, HS256) and the REST framework class that reads them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

TOKEN_ALGORITHM = "HS256"
TOKEN_LIFETIME = timedelta(hours=1)
BEARER_KEYWORD = "Bearer"
# A subject as issue_access_token writes it: a decimal id in ASCII digits, no sign, no leading zero.
SUBJECT_PATTERN = re.compile(r"[1-9][0-9]{0,18}")


def issue_access_token(user: AbstractBaseUser) -> str:
    """Return a signed JWT for user: HS256, valid for an hour, `sub` = the user's id as a string."""
    now = datetime.now(UTC)
    claims = {"sub": str(user.pk), "iat": now, "exp": now + TOKEN_LIFETIME}
    return jwt.encode(claims, settings.SECRET_KEY, algorithm=TOKEN_ALGORITHM)


def read_access_token(token: str) -> int:
    """Return the user id a token was issued to; raise jwt.InvalidTokenError if it is not valid."""
    claims = jwt.decode(
        token,
        settings.SECRET_KEY,
        algorithms=[TOKEN_ALGORITHM],
        options={"require": ["sub", "exp"]},
    )
    subject = claims["sub"]
    if not isinstance(subject, str) or SUBJECT_PATTERN.fullmatch(subject) is None:
        # Past 19 digits the id is beyond any integer column; Django's lookups find no row for an
        # id beyond its column's range (a 32-bit one for the user), which is then a 401.
        raise jwt.exceptions.InvalidSubjectError("sub is not a user id")
    return int(subject)


class JWTAuthentication(BaseAuthentication):
    """`Authorization: Bearer <jwt>`; any other scheme is left to the next class (there is none)."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, str] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != BEARER_KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
        try:
            token = header[1].decode("ascii")
            user_id = read_access_token(token)
        except (UnicodeDecodeError, jwt.InvalidTokenError):
            raise AuthenticationFailed("The token is malformed, expired or not ours.") from None
        user_model = get_user_model()
        try:
            user = user_model.objects.get(pk=user_id, is_active=True)
        except user_model.DoesNotExist:
            raise AuthenticationFailed("The token's user does not exist.") from None
        return user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes REST framework answer 401 with `WWW-Authenticate: Bearer` (not 403).
        return BEARER_KEYWORD


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular that JWTAuthentication is an HTTP bearer scheme."""

    target_class = JWTAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=BEARER_KEYWORD, bearer_format="JWT"
        )
