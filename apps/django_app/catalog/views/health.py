"""/health: the readiness probe that `bench serve` waits for."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse


def read_health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "framework": settings.BENCH_APP_NAME})
