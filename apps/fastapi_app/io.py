"""/io: an async view that waits for a simulated upstream call without holding a CPU."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from apps.fastapi_app.errors import error_responses
from apps.fastapi_app.schemas import Waited

DEFAULT_WAIT_MS = 50
MAX_WAIT_MS = 1000

router = APIRouter(tags=["async"])


@router.get("/io", responses=error_responses(422))
async def wait_for_upstream(
    ms: Annotated[int, Query(description="Milliseconds to wait, clamped to 0..1000")] = (DEFAULT_WAIT_MS),
) -> Waited:
    """Wait ms milliseconds on the event loop, then say how long."""
    waited_ms = max(0, min(ms, MAX_WAIT_MS))
    await asyncio.sleep(waited_ms / 1000)
    return Waited(waited_ms=waited_ms)
