"""Error pages: under /api the JSON envelope, elsewhere Django's own pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from apps.django_app.catalog.exceptions import error_envelope

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path == API_PREFIX.rstrip("/") or request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: no route matched (REST framework answers its own views' 404s)."""
    if is_api_request(request):
        return JsonResponse(error_envelope("not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unexpected error, logged to stderr; never a stack trace in the answer."""
    if is_api_request(request):
        return JsonResponse(error_envelope("internal_error"), status=500)
    return defaults.server_error(request)
