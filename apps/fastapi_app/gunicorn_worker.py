"""The gunicorn worker class of the `gunicorn` server variant."""

from __future__ import annotations

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker


class QuietUvicornWorker(UvicornWorker):
    """uvicorn-worker's UvicornWorker with uvicorn's access log switched off.

    gunicorn writes no access log by default, but the stock worker still has uvicorn build a log
    record per request; the contract wants no access log, so the `uvicorn` variant's
    --no-access-log is set here too (subclassing is how uvicorn-worker takes uvicorn options).
    """

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
    }
