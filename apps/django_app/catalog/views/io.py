"""/io: a simulated upstream call, awaited by an async view so that waiting holds no CPU or thread."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, JsonResponse

from apps.django_app.catalog.exceptions import error_envelope
from apps.django_app.catalog.serializers import INTEGER_PATTERN

DEFAULT_WAIT_MS = 50
MAX_WAIT_MS = 1000


async def wait_io(request: HttpRequest) -> JsonResponse:
    raw_ms = request.GET.get("ms", str(DEFAULT_WAIT_MS))
    if not INTEGER_PATTERN.fullmatch(raw_ms):
        fields = {"ms": ["A valid integer is required."]}
        return JsonResponse(error_envelope("validation_error", fields), status=422)
    waited_ms = max(0, min(int(raw_ms), MAX_WAIT_MS))
    await asyncio.sleep(waited_ms / 1000)
    return JsonResponse({"waited_ms": waited_ms})
