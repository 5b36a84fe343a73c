"""GET /health: the readiness probe bench/ polls after starting the server."""

from __future__ import annotations

import tomllib
from pathlib import Path

from flask import Blueprint

# The app's name is declared once, in the app.toml that bench/ reads.
with (Path(__file__).resolve().parent / "app.toml").open("rb") as app_toml:
    APP_NAME: str = tomllib.load(app_toml)["name"]

blp = Blueprint("health", __name__)


@blp.get("/health")
def read_health() -> dict[str, str]:
    return {"status": "ok", "framework": APP_NAME}
