"""GET /io: a simulated upstream call that waits without holding a CPU.

On gunicorn's gthread worker the wait is an async view, which Flask runs on an event loop of its own (asgiref)
while the request keeps its thread. On the gevent worker the same wait is a plain view: gevent's monkey patch
makes time.sleep yield to the other requests' greenlets, the concurrency Flask's docs point to. (An async view
cannot run there: the greenlets share one thread, and asgiref refuses to start a second event loop in it.)
"""

from __future__ import annotations

import asyncio
import sys
import time
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


def _clamped(query: dict[str, int]) -> int:
    return min(max(query["ms"], 0), MAX_WAIT_MS)


def patched_by_gevent() -> bool:
    """Return True when gevent's monkey patch is in place (gunicorn's gevent worker applies it first)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("time"))


if patched_by_gevent():

    @blp.get("/io")
    @use_args(WaitQuerySchema(), location="query")
    def read_io(query: dict[str, int]) -> dict[str, Any]:
        waited_ms = _clamped(query)
        time.sleep(waited_ms / 1000)  # gevent.sleep under the monkey patch
        return {"waited_ms": waited_ms}

else:

    @blp.get("/io")
    @use_args(WaitQuerySchema(), location="query")
    async def read_io(query: dict[str, int]) -> dict[str, Any]:
        waited_ms = _clamped(query)
        await asyncio.sleep(waited_ms / 1000)
        return {"waited_ms": waited_ms}
