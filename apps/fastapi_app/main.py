"""The FastAPI application: assembled here from the feature routers, middleware and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from apps.fastapi_app import auth, docs, forms, health, io, items, performance
from apps.fastapi_app.admin import mount_admin
from apps.fastapi_app.config import settings
from apps.fastapi_app.errors import add_exception_handlers
from apps.fastapi_app.middleware import (
    BodySizeLimitMiddleware,
    InFlightLimitMiddleware,
    InjectCpuMiddleware,
)
from apps.fastapi_app.orm_mode import orm

MAX_BODY_BYTES = 1024 * 1024


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Starlette runs def endpoints, sync dependencies and response validation on anyio's default limiter,
    # 40 threads. Sized like gunicorn's --threads instead, a worker serves BENCH_THREADS requests at once
    # as the threaded variants of the other apps do (apps/serving.py). The limiter belongs to the event
    # loop, so it is set here, in the loop that serves the requests.
    to_thread.current_default_thread_limiter().total_tokens = settings.threads
    yield
    await orm.dispose()


app = FastAPI(
    title="framework-bench: FastAPI",
    summary="The contract of docs/contract.md, implemented with FastAPI.",
    version="1.0.0",
    docs_url=None,  # served by docs.py from local assets
    redoc_url=None,
    lifespan=lifespan,
)

app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, same_site="lax")
app.add_middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES)
if settings.inject_cpu_us > 0:
    app.add_middleware(InjectCpuMiddleware, microseconds=settings.inject_cpu_us)
if settings.orm == "sync":
    # The threaded variant: BENCH_THREADS requests at once per worker, like gthread (added last: outermost).
    app.add_middleware(InFlightLimitMiddleware, limit=settings.threads)
add_exception_handlers(app)

# The OpenAPI document covers the JSON API (/api), the same operations in all three apps (docs/contract.md).
app.include_router(health.router, include_in_schema=False)
app.include_router(performance.router, include_in_schema=False)
app.include_router(io.router, include_in_schema=False)
app.include_router(auth.api_router)
app.include_router(items.router)
app.include_router(auth.pages_router)
app.include_router(forms.router)
app.include_router(docs.router)
app.mount(docs.SWAGGER_UI_ASSETS_URL, docs.swagger_ui_assets, name="swagger-ui")
mount_admin(app)
app.openapi = lambda: docs.api_document(app)  # type: ignore[method-assign]
