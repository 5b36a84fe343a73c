"""The Jinja2 templates of the HTML pages (autoescaped: they end in .html)."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from apps.fastapi_app.config import APP_DIR
from apps.fastapi_app.csrf import get_csrf_token


def _csrf_context(request: Request) -> dict[str, Any]:
    # A callable, so that only pages with a form put a token in the session.
    return {"csrf_token": partial(get_csrf_token, request)}


@pass_context
def url_path_for(context: dict[str, Any], name: str, /, **path_params: Any) -> str:
    """Return the path of the named route (Starlette's reverse lookup), without scheme and host.

    Starlette's template `url_for` returns absolute URLs (request.url_for: the path made absolute with the
    request's base URL); Flask's `url_for` in a request and Django's `reverse` return paths. Links are built
    the same way in all three apps: one reverse lookup per link, giving a path.
    """
    request: Request = context["request"]
    return request.scope.get("root_path", "") + request.app.url_path_for(name, **path_params)


templates = Jinja2Templates(directory=APP_DIR / "templates", context_processors=[_csrf_context])
templates.env.globals["url_path_for"] = url_path_for
