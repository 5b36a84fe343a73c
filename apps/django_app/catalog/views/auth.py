"""Authentication: the API's token endpoint and /api/me, and the HTML session login."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.django_app.catalog.authentication import issue_access_token
from apps.django_app.catalog.http import HttpResponseSeeOther
from apps.django_app.catalog.serializers import (
    CredentialsSerializer,
    ErrorSerializer,
    TokenSerializer,
    UserSerializer,
)
from apps.django_app.catalog.views.base import PayloadLimitFirstMixin


class TokenView(PayloadLimitFirstMixin, APIView):
    """POST /api/auth/token: form-encoded username and password (OAuth2 password grant)."""

    parser_classes = [FormParser]
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="create_token",
        request={"application/x-www-form-urlencoded": CredentialsSerializer},
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A body that cannot be parsed (bad_request)."),
            401: OpenApiResponse(ErrorSerializer, description="Wrong username or password."),
            413: OpenApiResponse(ErrorSerializer, description="The body is over 1 MiB (payload_too_large)."),
            415: OpenApiResponse(ErrorSerializer, description="The body is not form-encoded."),
            422: OpenApiResponse(ErrorSerializer, description="A field is missing or invalid."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Exchange a username and password for a bearer token valid for one hour."""
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=credentials.validated_data["username"],
            password=credentials.validated_data["password"],
        )
        if user is None:
            raise AuthenticationFailed("Wrong username or password.")
        return Response({"access_token": issue_access_token(user), "token_type": "bearer"})


class MeView(PayloadLimitFirstMixin, APIView):
    """GET /api/me: the user the bearer token belongs to."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="read_me",
        responses={
            200: UserSerializer,
            401: OpenApiResponse(ErrorSerializer, description="No valid token."),
        },
    )
    def get(self, request: Request) -> Response:
        """Return the user the bearer token belongs to."""
        return Response(UserSerializer(request.user).data)


class SessionLoginView(LoginView):
    """Django's login view, answering a successful login with 303 See Other."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        return HttpResponseSeeOther(response["Location"])
