"""The Jinja2 templates of the HTML pages (autoescaped: they end in .html)."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from apps.fastapi_app.config import APP_DIR
from apps.fastapi_app.csrf import get_csrf_token


def _csrf_context(request: Request) -> dict[str, Any]:
    # A callable, so that only pages with a form put a token in the session.
    return {"csrf_token": partial(get_csrf_token, request)}


templates = Jinja2Templates(directory=APP_DIR / "templates", context_processors=[_csrf_context])
