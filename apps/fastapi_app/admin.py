"""The admin site (sqladmin) at /admin: staff users only, logged in through /login."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio
from fastapi import FastAPI, Request, status
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqladmin import Admin, ModelView
from sqladmin.authentication import AuthenticationBackend
from sqladmin.filters import ForeignKeyFilter
from sqlalchemy import ClauseElement
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from apps import seed_data
from apps.fastapi_app.auth import LOGIN_URL
from apps.fastapi_app.deps import SESSION_USER_KEY
from apps.fastapi_app.models import Item, User
from apps.fastapi_app.orm_mode import orm

ADMIN_URL = "/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ItemAdmin(ModelView, model=Item):
    column_list = [
        Item.id,
        Item.name,
        Item.price,
        Item.quantity,
        Item.owner,
        Item.created_at,
    ]
    column_searchable_list = [Item.name, Item.description]
    column_sortable_list = [Item.id, Item.name, Item.price, Item.quantity]
    column_default_sort = "id"
    # The same page in every app's admin: these columns, 20 rows, search, one filter (owner), a count.
    column_filters = [ForeignKeyFilter(Item.owner_id, User.username, title="Owner")]
    page_size = seed_data.ADMIN_PAGE_SIZE

    async def _run_arbitrary_query(self, stmt: ClauseElement) -> Any:
        # sqladmin 0.32 runs the filter's lookup query (the owners of the list page) on the event loop
        # with a sync engine, unlike its other queries; in the sync ORM mode it goes to a thread too.
        if self.is_async:
            return await super()._run_arbitrary_query(stmt)
        return await anyio.to_thread.run_sync(self._run_arbitrary_query_sync, stmt)


def _read_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def _login_redirect(request: Request) -> RedirectResponse:
    query = urlencode({"next": request.url.path})
    return RedirectResponse(f"{LOGIN_URL}?{query}", status_code=status.HTTP_302_FOUND)


class StaffSessionBackend(AuthenticationBackend):
    """Lets in the staff users logged in through the site's own /login page."""

    def __init__(self) -> None:
        # Unlike the base class, no SessionMiddleware of its own: the app's middleware has
        # already read the session cookie, so the admin shares the session /login wrote.
        self.middlewares: list[Middleware] = []

    async def login(self, request: Request) -> bool:
        # Never called: /admin/login redirects to /login (see mount_admin).
        return False

    async def logout(self, request: Request) -> Response:
        request.session.clear()
        return RedirectResponse(LOGIN_URL, status_code=status.HTTP_302_FOUND)

    async def authenticate(self, request: Request) -> Response | bool:
        user_id = request.session.get(SESSION_USER_KEY)
        if user_id is None:
            return _login_redirect(request)
        user = await orm.run(_read_user, user_id)
        if user is None:
            return _login_redirect(request)
        if not user.is_staff:
            return PlainTextResponse("Staff only", status_code=status.HTTP_403_FORBIDDEN)
        return True


class SameOriginWritesMiddleware:
    """Refuses admin writes that do not come from a page of this site.

    sqladmin's forms carry no CSRF token, so its POST and DELETE requests must name this site
    in their Origin (or Referer) header, which browsers send and other sites cannot forge.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = Headers(scope=scope)
            source = headers.get("origin") or headers.get("referer") or ""
            if urlsplit(source).netloc != headers.get("host"):
                response = PlainTextResponse(
                    "Cross-site request refused", status_code=status.HTTP_403_FORBIDDEN
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def mount_admin(app: FastAPI) -> Admin:
    """Mount the admin site on the app and return it."""

    # Registered before the admin's mount so that it wins: one login page for the whole site.
    @app.api_route(f"{ADMIN_URL}/login", methods=["GET", "POST"], include_in_schema=False)
    async def redirect_admin_login() -> RedirectResponse:
        query = urlencode({"next": f"{ADMIN_URL}/"})
        return RedirectResponse(f"{LOGIN_URL}?{query}", status_code=status.HTTP_303_SEE_OTHER)

    admin = Admin(
        app,
        engine=orm.engine,  # an AsyncEngine or an Engine: sqladmin runs a sync one in threads
        base_url=ADMIN_URL,
        title="framework-bench admin",
        authentication_backend=StaffSessionBackend(),
        middlewares=[Middleware(SameOriginWritesMiddleware)],
    )
    admin.add_view(ItemAdmin)
    return admin
