"""/health: what bench/ polls to know that a server is ready."""

from __future__ import annotations

from fastapi import APIRouter

from apps.fastapi_app.config import APP_NAME
from apps.fastapi_app.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health")
async def read_health() -> Health:
    """Say that the app is up, and which one it is."""
    return Health(status="ok", framework=APP_NAME)
