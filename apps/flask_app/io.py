"""GET /io: a simulated upstream call, awaited in an async view (Flask runs it via asgiref)."""

from __future__ import annotations

import asyncio
from typing import Any

import marshmallow as ma
from flask import Blueprint
from webargs.flaskparser import use_args

from apps.flask_app.schemas import QueryInteger

DEFAULT_WAIT_MS = 50
MAX_WAIT_MS = 1000

blp = Blueprint("io", __name__)


class WaitQuerySchema(ma.Schema):
    ms = QueryInteger(load_default=DEFAULT_WAIT_MS)


@blp.get("/io")
@use_args(WaitQuerySchema(), location="query")
async def read_io(query: dict[str, int]) -> dict[str, Any]:
    waited_ms = min(max(query["ms"], 0), MAX_WAIT_MS)
    await asyncio.sleep(waited_ms / 1000)
    return {"waited_ms": waited_ms}
